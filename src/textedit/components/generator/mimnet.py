"""MIM-Net's generator: Initial Coarse Manipulation + Fine-grain Image Refinement.

Shape legend: ``b`` batch, ``H`` input size, ``h`` ICM feature size, ``h' = H / 2`` the
size of the upsampled features ``U`` and of the coarse image, ``t`` words, ``d`` texture
width, ``c`` feature channels.
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
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.residual_block import ResidualBlock
from textedit.layers.upsample_block import UpsampleBlock
from textedit.layers.word_attention import WordAttention
from textedit.registry.api import register_generator

__all__ = ["MIMNetGenerator", "MIMNetGeneratorConfig"]


def _is_power_of_two(n: int) -> bool:
    return n > 0 and not n & (n - 1)


class MIMNetGeneratorConfig(ComponentConfig):
    image_size: int = Field(
        128, gt=0, description="input size H (a power of two); stages are H/2 and H"
    )
    feature_size: int = Field(
        16, gt=0, description="size h of the ICM feature maps (a power of two, at most H/2)"
    )
    channels: int = Field(128, gt=0, description="channels c of the ICM features C, F_x and W_g g")
    base_channels: int = Field(
        16,
        gt=0,
        description="channels at full resolution; a level of size s has "
        "min(channels, base_channels·H/s) channels",
    )
    word_dim: int = Field(
        256,
        gt=0,
        description="width of the text encoder's word features (checked only: "
        "MIM-Net reads the text through the memory bank)",
    )
    sentence_dim: int | None = Field(
        None, gt=0, description="width of the sentence feature it accepts; None: word_dim"
    )
    texture_dim: int = Field(128, gt=0, description="width d of the memory textures")
    structure_channels: int = Field(32, gt=0, description="channels of the structure features F_b")

    @model_validator(mode="after")
    def _check_sizes(self) -> "MIMNetGeneratorConfig":
        if not (_is_power_of_two(self.image_size) and _is_power_of_two(self.feature_size)):
            raise ValueError(
                f"image_size ({self.image_size}) and feature_size ({self.feature_size}) must be powers of two"
            )
        if not 2 <= self.feature_size <= self.image_size // 2:
            raise ValueError(
                f"feature_size must lie in [2, image_size / 2 = {self.image_size // 2}], "
                f"got {self.feature_size}"
            )
        return self


@register_generator("mimnet")
class MIMNetGenerator(Generator):
    """Manipulates an image with memory textures, in two stages (spec sections 3 and 4).

    ICM: ``g`` = mean texture over valid words; ``C = ResBlock([tile(W_g g); F_b])``;
    ``F_x`` = image encoder of ``x``; the localizer fuses ``F = β ⊙ C + (1 − β) ⊙ F_x``;
    ``U = up(F)`` at ``H/2``; coarse image ``x̂_0 = tanh(conv(U))``.
    FIR: ``R`` = attention of every position of ``U`` over ``W_t t_j`` (padded words
    masked); ``x̂_1 = tanh(conv(up(ResBlock([U; R]))))`` at ``H``.

    Without a localizer the coarse features are used everywhere (``F = C``), the output's
    ``localization`` is None and ``localized_feature`` is the plain spatial mean of ``F_x``.
    """

    config_class = MIMNetGeneratorConfig
    uses = frozenset({"memory", "structure", "localizer"})

    def __init__(self, config: MIMNetGeneratorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        size, h, half = c.image_size, c.feature_size, c.image_size // 2
        down = [self.width(size >> k) for k in range(1, (size // h).bit_length())]
        down[-1] = c.channels
        self.image_encoder = DownsamplingEncoder(3, down)
        self.image_block = ResidualBlock(c.channels, c.channels)
        self.texture_projection = nn.Linear(c.texture_dim, c.channels, bias=False)  # W_g
        self.coarse_block = ResidualBlock(c.channels + c.structure_channels, c.channels)
        ups, s = [], h
        while s < half:
            ups.append(UpsampleBlock(self.width(s) if s > h else c.channels, self.width(2 * s)))
            s *= 2
        self.upsample = nn.Sequential(*ups)
        self.coarse_decoder = _ToImage(self.width(half))
        self.word_attention = WordAttention(c.texture_dim, self.width(half))
        self.fine_decoder = nn.Sequential(
            ResidualBlock(2 * self.width(half), self.width(half)),
            UpsampleBlock(self.width(half), self.width(size)),
            _ToImage(self.width(size)),
        )

    def width(self, size: int) -> int:
        """Channels of a feature map of side ``size``."""
        c = self.config
        return min(c.channels, c.base_channels * c.image_size // size)

    @classmethod
    def example_config(cls) -> MIMNetGeneratorConfig:
        return cls.config_class(
            image_size=16,
            feature_size=4,
            channels=8,
            base_channels=4,
            word_dim=6,
            texture_dim=4,
            structure_channels=3,
        )

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size // 2, self.config.image_size)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    @property
    def structure_channels(self) -> int:
        return self.config.structure_channels

    @property
    def structure_reduction(self) -> int:
        return self.config.image_size // self.config.feature_size

    @property
    def feature_channels(self) -> int:
        """Channels ``c`` of the maps a localizer fuses."""
        return self.config.channels

    def forward(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` with the textures read for ``text``.

        Args:
            image: ``(b, 3, H, H)`` in ``[-1, 1]``.
            text: the description's encoding (MIM-Net reads text only through ``memory``).
            memory: ``(b, t, d)`` word-level textures from a memory bank (required).
            structure: the structure extractor's output, features ``(b, c_b, h, h)`` (required).
            localizer: fuses coarse and original features; None edits everywhere.

        Returns:
            :class:`GeneratorOutput` with the ``(b, 3, H/2, H/2)`` and ``(b, 3, H, H)`` images.
        """
        self._check_inputs(image, text, memory, structure)
        g = memory.global_texture()  # (b, d)
        texture_feature = self.texture_projection(g)  # W_g g, (b, c)
        original = self.image_block(self.image_encoder(image)[-1])  # F_x, (b, c, h, h)
        h = original.shape[-1]
        tiled = texture_feature[:, :, None, None].expand(-1, -1, h, h)
        coarse = self.coarse_block(torch.cat([tiled, structure.features.to(tiled.dtype)], dim=1))
        if localizer is None:
            weights, fused = None, coarse
            localized = original.mean(dim=(2, 3))
        else:
            localization = localizer(coarse, original, g)
            weights, fused = localization.weights, localization.fused
            mass = weights.sum(dim=(2, 3)).clamp_min(1e-6)
            localized = (weights * original).sum(dim=(2, 3)) / mass  # p
        upsampled = self.upsample(fused)  # U
        coarse_image = self.coarse_decoder(upsampled)
        attended, gamma = self.word_attention(upsampled, memory.texture, memory.word_mask)
        fine_image = self.fine_decoder(torch.cat([upsampled, attended], dim=1))
        return GeneratorOutput(
            images=(coarse_image, fine_image),
            localization=weights,
            memory_attention=memory.attention,
            word_attention=gamma,
            texture_feature=texture_feature,
            localized_feature=localized,
        )

    def _check_inputs(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None,
        structure: Structure | None,
    ) -> None:
        c = self.config
        if image.ndim != 4 or image.shape[1:] != (3, c.image_size, c.image_size):
            raise InputError(
                f"{type(self).__name__} takes (b, 3, {c.image_size}, {c.image_size}) images, got "
                f"{tuple(image.shape)}; resize the image to {c.image_size}×{c.image_size}"
            )
        if text.words.shape[-1] != c.word_dim:
            raise InputError(
                f"word features are {text.words.shape[-1]}-wide, the generator expects "
                f"word_dim={c.word_dim}; set generator.word_dim to the text encoder's word_dim"
            )
        if memory is None or structure is None:
            missing = [n for n, v in (("memory", memory), ("structure", structure)) if v is None]
            raise InputError(
                f"{type(self).__name__} needs {' and '.join(missing)}: pass the memory bank's read "
                f"and the structure extractor's output (MIMNet.generate does it for you)"
            )
        if memory.texture.shape[-1] != c.texture_dim:
            raise InputError(
                f"memory textures are {memory.texture.shape[-1]}-wide, the generator expects "
                f"texture_dim={c.texture_dim}; set generator.texture_dim to the memory bank's slot_dim"
            )
        expected = (c.structure_channels, c.feature_size, c.feature_size)
        if tuple(structure.features.shape[1:]) != expected:
            raise InputError(
                f"structure features have shape {tuple(structure.features.shape[1:])}, the generator "
                f"expects (c, h, w) = {expected}; set generator.structure_channels to the extractor's "
                f"out_channels and its reduction to image_size / feature_size = {self.structure_reduction}"
            )


class _ToImage(nn.Sequential):
    """``(b, c, s, s) -> (b, 3, s, s)`` in ``[-1, 1]``."""

    def __init__(self, channels: int):
        super().__init__(nn.Conv2d(channels, 3, 3, padding=1), nn.Tanh())
