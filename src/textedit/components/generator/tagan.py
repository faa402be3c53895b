"""TAGAN's generator: image encoder, text-conditioned residual blocks, decoder (Nam et al., 2018).

Shape legend: ``b`` batch, ``H`` input size, ``h = H / 2^n`` the feature size after the
encoder's ``n`` stride-2 blocks (``n = 3`` in TAGAN: 16 at 128 px), ``d_s`` sentence
feature width, ``k`` condition width, ``c`` feature channels.

Follows the reference implementation (github.com/woozzu/tagan, ``model.py``) where it is
specific, with this library's conventions where it is not about the method (shared with
SISGAN in :mod:`textedit.components.generator.sentence_conditioned`): per-sample GroupNorm
instead of BatchNorm; the text encoder's sentence feature as the text (the reference
averages the hidden states of its own bidirectional GRU over fastText vectors inside the
generator); and a conditioning augmentation that uses its mean in eval mode, so an edit is
deterministic (the reference samples at test time too).
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
from textedit.registry.api import register_generator

__all__ = ["TAGANGenerator", "TAGANGeneratorConfig"]


class TAGANGeneratorConfig(SentenceConditionedGeneratorConfig):
    """TAGAN's defaults: 128 px, widths 64 to 512, residual blocks at ``H/8``."""

    image_size: ImageSize = 128
    base_channels: BaseChannels = 64
    num_downsamples: NumDownsamples = Field(
        3,
        description="stride-2 blocks of the encoder and ×2 upsamplings of the decoder "
        "(3 in TAGAN: the residual blocks run at H/8)",
    )


class _ResidualBlock(nn.Module):
    """``x + norm(conv(relu(norm(conv(x)))))`` with no activation after the sum (TAGAN's block)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels),
            ConvNormAct(channels, channels, activation="none"),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


@register_generator("tagan")
class TAGANGenerator(SentenceConditionedGenerator):
    """Manipulates an image as a sentence describes, in one stage.

    ``e = encoder(x)``: a 3×3 stem then ``n`` stride-2 4×4 blocks, ``(b, c, h, h)``;
    ``c_s`` = conditioning augmentation of the sentence feature, ``(b, k)``;
    ``m = ResBlocks(conv([e; tile(c_s)]))``; ``x̂ = tanh(decoder(e + m))`` with ``n``
    nearest ×2 upsampling blocks and a 3×3 convolution to RGB. The merge convolution is
    followed by a norm and a ReLU; each residual block has no activation after its sum.

    Widths at level ``j`` (size ``H / 2^j``) are ``min(max_channels, base_channels·2^j)``:
    64, 128, 256, 512 at the defaults. ``aux["ca_mean"]`` and ``aux["ca_logvar"]`` (each
    ``(b, k)``) feed the recipe's KL term.
    """

    config_class = TAGANGeneratorConfig
    augmentation_bias = True

    def _build_fusion(self, channels: int, condition_dim: int) -> None:
        self.merge = ConvNormAct(channels + condition_dim, channels)
        self.residual_blocks = nn.Sequential(
            *(_ResidualBlock(channels) for _ in range(self.config.num_residual_blocks))
        )

    def _fuse(self, features: Tensor, joint: Tensor) -> Tensor:
        return features + self.residual_blocks(self.merge(joint))  # e + m
