"""TAGAN's generator: image encoder, text-conditioned residual blocks, decoder (Nam et al., 2018).

Shape legend: ``b`` batch, ``H`` input size, ``h = H / 2^n`` the feature size after the
encoder's ``n`` stride-2 blocks (``n = 3`` in TAGAN: 16 at 128 px), ``d_s`` sentence
feature width, ``k`` condition width, ``c`` feature channels.

Follows the reference implementation (github.com/woozzu/tagan, ``model.py``) where it is
specific, with this library's conventions where it is not about the method:

* normalisation is :func:`~textedit.layers.conv_block.make_norm` (per-sample GroupNorm)
  instead of BatchNorm, so an edit never depends on the rest of its batch;
* the text is the text encoder's sentence feature (the reference averages the hidden states
  of its own bidirectional GRU over fastText vectors inside the generator);
* conditioning augmentation samples only in training mode and uses its mean in eval mode,
  so an edit is deterministic (the reference samples at test time too).
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.generator import Generator, GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conditioning_augmentation import ConditioningAugmentation
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.init import dcgan_init
from textedit.layers.upsample_block import UpsampleBlock
from textedit.registry.api import register_generator

__all__ = ["TAGANGenerator", "TAGANGeneratorConfig"]


class TAGANGeneratorConfig(ComponentConfig):
    image_size: int = Field(
        128, gt=0, description="input and output size H (divisible by 2^num_downsamples)"
    )
    word_dim: int = Field(
        256,
        gt=0,
        description="width of the text encoder's word features (not read: the generator "
        "reads the sentence feature only)",
    )
    sentence_dim: int | None = Field(
        None, gt=0, description="width d_s of the sentence feature it reads; None: word_dim"
    )
    condition_dim: int = Field(
        128, gt=0, description="width k of the conditioning augmentation's sample (128 in TAGAN)"
    )
    base_channels: int = Field(
        64, gt=0, description="channels of the full-resolution stem; doubled per stride-2 block"
    )
    max_channels: int = Field(512, gt=0, description="cap on the channels of any block")
    num_downsamples: int = Field(
        3,
        ge=1,
        description="stride-2 blocks of the encoder and ×2 upsamplings of the decoder "
        "(3 in TAGAN: the residual blocks run at H/8)",
    )
    num_residual_blocks: int = Field(
        4, ge=0, description="residual blocks after the image-text merge (4 in TAGAN)"
    )

    @model_validator(mode="after")
    def _check_size(self) -> "TAGANGeneratorConfig":
        factor = 1 << self.num_downsamples
        if self.image_size % factor:
            raise ValueError(
                f"image_size ({self.image_size}) must be divisible by 2^num_downsamples = {factor}"
            )
        return self


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
class TAGANGenerator(Generator):
    """Manipulates an image as a sentence describes, in one stage.

    ``e = encoder(x)``: a 3×3 stem then ``n`` stride-2 4×4 blocks, ``(b, c, h, h)``;
    ``c_s`` = conditioning augmentation of the sentence feature, ``(b, k)``;
    ``m = ResBlocks(conv([e; tile(c_s)]))``; ``x̂ = tanh(decoder(e + m))`` with ``n``
    nearest ×2 upsampling blocks and a 3×3 convolution to RGB.

    Widths at level ``j`` (size ``H / 2^j``) are ``min(max_channels, base_channels·2^j)``:
    64, 128, 256, 512 at the defaults. ``aux["ca_mean"]`` and ``aux["ca_logvar"]`` (each
    ``(b, k)``) feed the recipe's KL term.
    """

    config_class = TAGANGeneratorConfig
    uses = frozenset()

    def __init__(self, config: TAGANGeneratorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        widths = [min(c.max_channels, c.base_channels << j) for j in range(c.num_downsamples + 1)]
        self.stem = ConvNormAct(3, widths[0], norm=False)
        self.encoder = DownsamplingEncoder(widths[0], widths[1:], kernel_size=4)
        self.augmentation = ConditioningAugmentation(self.sentence_dim, c.condition_dim)
        self.merge = ConvNormAct(widths[-1] + c.condition_dim, widths[-1])
        self.residual_blocks = nn.Sequential(
            *(_ResidualBlock(widths[-1]) for _ in range(c.num_residual_blocks))
        )
        self.decoder = nn.Sequential(
            *(UpsampleBlock(widths[j + 1], widths[j]) for j in reversed(range(c.num_downsamples))),
            nn.Conv2d(widths[0], 3, 3, padding=1),
            nn.Tanh(),
        )
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> TAGANGeneratorConfig:
        return cls.config_class(
            image_size=16,
            word_dim=6,
            sentence_dim=5,
            condition_dim=4,
            base_channels=4,
            max_channels=16,
            num_downsamples=3,
            num_residual_blocks=2,
        )

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size,)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim

    def forward(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` as the sentence feature of ``text`` describes.

        Args:
            image: ``(b, 3, H, H)`` in ``[-1, 1]``.
            text: the description's encoding; only ``text.sentence`` ``(b, d_s)`` is read.
            memory: ignored (TAGAN has no memory bank).
            structure: ignored.
            localizer: ignored (TAGAN edits everywhere).

        Returns:
            :class:`GeneratorOutput` with one ``(b, 3, H, H)`` image and ``aux`` holding
            ``ca_mean`` and ``ca_logvar``, each ``(b, k)``.
        """
        self._check_inputs(image, text)
        features = self.encoder(self.stem(image))[-1]  # e, (b, c, h, h)
        condition, mean, logvar = self.augmentation(text.sentence.to(features.dtype))
        h, w = features.shape[-2:]
        tiled = condition[:, :, None, None].expand(-1, -1, h, w)
        merged = self.residual_blocks(self.merge(torch.cat([features, tiled], dim=1)))
        output = self.decoder(features + merged)
        return GeneratorOutput(images=(output,), aux={"ca_mean": mean, "ca_logvar": logvar})

    def _check_inputs(self, image: Tensor, text: TextEncoding) -> None:
        size = self.config.image_size
        if image.ndim != 4 or image.shape[1:] != (3, size, size):
            raise InputError(
                f"{type(self).__name__} takes (b, 3, {size}, {size}) images, got "
                f"{tuple(image.shape)}; resize the image to {size}×{size}"
            )
        sentence = text.sentence
        if sentence.ndim != 2 or sentence.shape != (image.shape[0], self.sentence_dim):
            raise InputError(
                f"{type(self).__name__} reads a (b, {self.sentence_dim}) sentence feature for "
                f"{image.shape[0]} images, got {tuple(sentence.shape)}; set "
                f"generator.sentence_dim to the text encoder's sentence_dim"
            )
