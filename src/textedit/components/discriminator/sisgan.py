"""SISGAN's matching-aware discriminator (Dong et al., 2017): real *and* matching, one logit.

Shape legend: ``b`` batch, ``H`` the image size (its single stage), ``d_s`` sentence
feature width, ``k`` compressed text width, ``c`` channels of the final ``4 × 4`` map.

Follows the PyTorch reference (github.com/woozzu/dong_iccv_2017, ``model.py``), with
per-sample GroupNorm (:func:`~textedit.layers.conv_block.make_norm`) instead of BatchNorm.
Like GAN-INT-CLS it has no unconditional score: a recipe trains it to call a real image with
its matching text real, and a real image with mismatched text or a synthesised image fake.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.discriminator import Discriminator, DiscriminatorOutput
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.init import dcgan_init
from textedit.layers.memory_format import tile_like
from textedit.registry.api import register_discriminator

__all__ = ["SISGANDiscriminator", "SISGANDiscriminatorConfig"]

_FINAL_SIZE = 4


class SISGANDiscriminatorConfig(ComponentConfig):
    image_size: int = Field(
        64,
        gt=0,
        description="size of the images it judges, its single stage (a power of two, at least 8)",
    )
    sentence_dim: int = Field(256, gt=0, description="width d_s of the sentence feature it reads")
    condition_dim: int = Field(
        128, gt=0, description="width k the sentence feature is compressed to (128 in SISGAN)"
    )
    base_channels: int = Field(
        64, gt=0, description="channels of the first stride-2 block; doubled per block"
    )
    max_channels: int = Field(512, gt=0, description="cap on the channels of any block")

    @field_validator("image_size")
    @classmethod
    def _size(cls, size: int) -> int:
        if size < 2 * _FINAL_SIZE or size & (size - 1):
            raise ValueError(f"image_size must be a power of two >= {2 * _FINAL_SIZE}, got {size}")
        return size


@register_discriminator("sisgan")
class SISGANDiscriminator(Discriminator):
    """One logit per image that it is real and matches the sentence.

    ``v = encoder(x)``: stride-2 4×4 blocks down to ``(b, c, 4, 4)`` (no norm on the first,
    no activation on the last); ``v = lrelu(v + R(v))`` with ``R`` a 1×1 -> 3×3 -> 3×3
    bottleneck of width ``c / 4``; ``t = lrelu(W s)``, ``(b, k)``; the logit is
    ``conv4×4(lrelu(norm(conv1×1([v; tile(t)]))))``. Widths: ``min(max_channels,
    base_channels·2^j)`` per block, 64, 128, 256, 512 at 64 px.

    It reads no word features: :attr:`word_dim` returns :attr:`sentence_dim`, which declares
    it conditional (so :meth:`example_inputs` and the conformance kit give it text).
    Returns ``DiscriminatorOutput(reality=(), matching=(logits,))``.
    """

    config_class = SISGANDiscriminatorConfig

    def __init__(self, config: SISGANDiscriminatorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        blocks = (c.image_size // _FINAL_SIZE).bit_length() - 1
        widths = [min(c.max_channels, c.base_channels << j) for j in range(blocks)]
        channels = [3, *widths]
        self.encoder = nn.Sequential(
            *(
                ConvNormAct(
                    channels[j],
                    channels[j + 1],
                    kernel_size=4,
                    stride=2,
                    norm=j > 0,
                    activation="none" if j == blocks - 1 else "leaky_relu",
                )
                for j in range(blocks)
            )
        )
        final, bottleneck = widths[-1], max(1, widths[-1] // 4)
        self.residual_branch = nn.Sequential(
            ConvNormAct(final, bottleneck, kernel_size=1, activation="leaky_relu"),
            ConvNormAct(bottleneck, bottleneck, activation="leaky_relu"),
            ConvNormAct(bottleneck, final, activation="none"),
        )
        self.compression = nn.Sequential(
            nn.Linear(c.sentence_dim, c.condition_dim), nn.LeakyReLU(0.2)
        )
        self.classifier = nn.Sequential(
            ConvNormAct(final + c.condition_dim, final, kernel_size=1, activation="leaky_relu"),
            nn.Conv2d(final, 1, _FINAL_SIZE),
        )
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> SISGANDiscriminatorConfig:
        return cls.config_class(
            image_size=16, sentence_dim=5, condition_dim=4, base_channels=4, max_channels=16
        )

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size,)

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim

    @property
    def word_dim(self) -> int:
        """Equal to :attr:`sentence_dim`: no word features are read, but text is needed."""
        return self.config.sentence_dim

    def forward(
        self, images: Sequence[Tensor], text: TextEncoding | None = None
    ) -> DiscriminatorOutput:
        """Score whether each image is real and matches its sentence.

        Args:
            images: one ``(b, 3, H, H)`` batch in ``[-1, 1]`` (a one-element sequence).
            text: the descriptions to match; only ``text.sentence`` ``(b, d_s)`` is read.
                Required.

        Returns:
            :class:`DiscriminatorOutput` with ``reality=()``, ``conformity=None`` and
            ``matching`` one ``(b,)`` logit tensor.
        """
        self.check_stage_images(images)
        if text is None:
            raise InputError(
                f"{type(self).__name__} is matching-aware: its only score says whether an image is "
                f"real and matches its description, so it needs text; pass the TextEncoding of the "
                f"descriptions (matching, mismatched or relevant, as the recipe's pass needs)"
            )
        image, sentence = images[0], text.sentence
        self.check_sentence(sentence, image.shape[0])
        features = self.encoder(image)  # (b, c, 4, 4)
        features = F.leaky_relu(features + self.residual_branch(features), 0.2)
        compressed = self.compression(sentence.to(features.dtype))
        tiled = tile_like(compressed, features)
        logits = self.classifier(torch.cat([features, tiled], dim=1)).flatten()
        return DiscriminatorOutput(reality=(), conformity=None, matching=(logits,))
