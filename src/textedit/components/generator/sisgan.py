"""SISGAN's generator: encoder, sentence-conditioned residual blocks, decoder (Dong et al., 2017).

Shape legend: ``b`` batch, ``H`` input size, ``h = H / 2^n`` the feature size after the
encoder's ``n`` stride-2 blocks (``n = 2`` in SISGAN: 16 at 64 px), ``d_s`` sentence
feature width, ``k`` condition width, ``c`` feature channels.

Follows the PyTorch reference (github.com/woozzu/dong_iccv_2017, ``model.py``) with the
encoder it trains from scratch; its scripts can instead use a frozen ImageNet VGG-16-BN up to
``conv4_3`` (dilated) as the encoder (``--use_vgg``), which needs downloaded weights and is
not built here. As in TAGAN (the shared part is
:mod:`textedit.components.generator.sentence_conditioned`), normalisation is per-sample
GroupNorm instead of BatchNorm and the conditioning augmentation uses its mean in eval mode.
"""

from __future__ import annotations

from pydantic import Field
from torch import Tensor, nn

from textedit.components.generator.sentence_conditioned import (
    BaseChannels,
    ImageSize,
    NumDownsamples,
    SentenceConditionedGenerator,
    SentenceConditionedGeneratorConfig,
)
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.residual_block import ResidualBlock
from textedit.registry.api import register_generator

__all__ = ["SISGANGenerator", "SISGANGeneratorConfig"]


class SISGANGeneratorConfig(SentenceConditionedGeneratorConfig):
    """SISGAN's defaults: 64 px, widths 128 to 512, residual blocks at ``H/4``."""

    image_size: ImageSize = 64
    base_channels: BaseChannels = 128
    num_downsamples: NumDownsamples = Field(
        2,
        description="stride-2 blocks of the encoder and ×2 upsamplings of the decoder "
        "(2 in SISGAN: the residual blocks run at H/4)",
    )


@register_generator("sisgan")
class SISGANGenerator(SentenceConditionedGenerator):
    """Synthesises an image from an input image and a sentence, in one stage.

    ``e = encoder(x)``: a 3×3 stem then ``n`` stride-2 4×4 blocks, ``(b, c, h, h)``;
    ``c_s`` = conditioning augmentation of the sentence feature (without biases), ``(b, k)``;
    ``f = ResBlocks(norm(conv([e; tile(c_s)])))`` (each block ``relu(x + body(x))``);
    ``x̂ = tanh(decoder(f))`` with ``n`` nearest ×2 upsampling blocks and a 3×3
    convolution to RGB. Unlike TAGAN there is no skip from ``e`` around the residual blocks.

    Widths at level ``j`` (size ``H / 2^j``) are ``min(max_channels, base_channels·2^j)``:
    128, 256, 512 at the defaults. ``aux["ca_mean"]`` and ``aux["ca_logvar"]`` (each
    ``(b, k)``) feed the recipe's KL term.
    """

    config_class = SISGANGeneratorConfig
    augmentation_bias = False

    def _build_fusion(self, channels: int, condition_dim: int) -> None:
        # the reference's fusion conv is followed by a norm but no activation
        self.fusion = ConvNormAct(channels + condition_dim, channels, activation="none")
        self.residual_blocks = nn.Sequential(
            *(ResidualBlock(channels, channels) for _ in range(self.config.num_residual_blocks))
        )

    def _fuse(self, features: Tensor, joint: Tensor) -> Tensor:
        return self.residual_blocks(self.fusion(joint))  # f; no skip from e
