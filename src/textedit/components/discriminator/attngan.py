"""AttnGAN's per-stage discriminator, as ManiGAN uses it (Xu et al., 2018; Li et al., 2020).

Shape legend: ``b`` batch, ``s`` a stage's image size, ``d_s`` sentence feature width,
``c`` channels of a stage's final ``4 × 4`` map.

Follows the reference code (github.com/taoxugit/AttnGAN and github.com/mrlibw/ManiGAN,
``model.py``: ``D_NET64/128/256``, ``D_GET_LOGITS``) with this library's conventions where
they are not about the method: per-sample GroupNorm
(:func:`~textedit.layers.conv_block.make_norm`) instead of BatchNorm, and widths capped at
``max_channels`` instead of AttnGAN's ``16·ndf`` and ``32·ndf`` blocks that a 3 × 3 block
narrows back to ``8·ndf`` at 128 and 256 px.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.discriminator import Discriminator, DiscriminatorOutput
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.init import dcgan_init
from textedit.layers.memory_format import tile_like
from textedit.registry.api import register_discriminator

__all__ = ["AttnGANDiscriminator", "AttnGANDiscriminatorConfig"]

_FINAL_SIZE = 4


class AttnGANDiscriminatorConfig(ComponentConfig):
    stage_sizes: tuple[int, ...] = Field(
        (64, 128, 256),
        min_length=1,
        description="image size of each stage, coarse to fine (powers of two, at least 8)",
    )
    sentence_dim: int = Field(256, gt=0, description="width d_s of the sentence feature (AttnGAN's nef)")
    base_channels: int = Field(
        64, gt=0, description="ndf: channels of the first stride-2 block; doubled per block"
    )
    max_channels: int = Field(512, gt=0, description="cap on the channels of any block (8·ndf in AttnGAN)")

    @field_validator("stage_sizes")
    @classmethod
    def _sizes(cls, sizes: tuple[int, ...]) -> tuple[int, ...]:
        for size in sizes:
            if size < 2 * _FINAL_SIZE or size & (size - 1):
                raise ValueError(f"stage sizes must be powers of two >= {2 * _FINAL_SIZE}, got {size}")
        return sizes


class _Stage(nn.Module):
    """One stage's network: an image code, an unconditional and a conditional logit."""

    def __init__(self, size: int, sentence_dim: int, base_channels: int, max_channels: int):
        super().__init__()
        blocks = (size // _FINAL_SIZE).bit_length() - 1
        widths = [min(max_channels, base_channels << j) for j in range(blocks)]
        channels = [3, *widths]
        # encode_image_by_16times / downBlock: 4×4 stride-2, no norm on the first block
        self.encoder = nn.Sequential(
            *(
                ConvNormAct(channels[j], channels[j + 1], kernel_size=4, stride=2, norm=j > 0, activation="leaky_relu")
                for j in range(blocks)
            )
        )
        final = widths[-1]
        self.unconditional = nn.Conv2d(final, 1, _FINAL_SIZE, stride=_FINAL_SIZE)
        self.joint = ConvNormAct(final + sentence_dim, final, activation="leaky_relu")
        self.conditional = nn.Conv2d(final, 1, _FINAL_SIZE, stride=_FINAL_SIZE)

    def forward(self, image: Tensor, sentence: Tensor | None) -> tuple[Tensor, Tensor | None]:
        code = self.encoder(image)  # (b, c, 4, 4)
        reality = self.unconditional(code).flatten()
        if sentence is None:
            return reality, None
        tiled = tile_like(sentence.to(code.dtype), code)
        matching = self.conditional(self.joint(torch.cat([code, tiled], dim=1))).flatten()
        return reality, matching


@register_discriminator("attngan")
class AttnGANDiscriminator(Discriminator):
    """Per stage, an unconditional logit and a sentence-conditioned logit (AttnGAN's D_NET).

    Per stage of size ``s``: ``h = encoder(x)``, stride-2 4×4 blocks down to ``(b, c, 4, 4)``
    (widths ``min(max_channels, base_channels·2^j)``, LeakyReLU 0.2, no norm on the first);
    ``D_r = conv4×4(h)``; ``D_c = conv4×4(lrelu(norm(conv3×3([h; tile(s)]))))``.

    Returns the unconditional logits as ``reality`` and, with text, ``log σ(D_c)`` as
    ``conformity`` (the contract's log space), so the shared adversarial losses apply.
    """

    config_class = AttnGANDiscriminatorConfig

    def __init__(self, config: AttnGANDiscriminatorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.stages = nn.ModuleList(
            _Stage(size, c.sentence_dim, c.base_channels, c.max_channels) for size in c.stage_sizes
        )
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> AttnGANDiscriminatorConfig:
        return cls.config_class(stage_sizes=(8, 16), sentence_dim=5, base_channels=4, max_channels=16)

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return tuple(self.config.stage_sizes)

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim

    @property
    def word_dim(self) -> int:
        """Equal to :attr:`sentence_dim`: no word features are read, but text can be."""
        return self.config.sentence_dim

    def forward(self, images: Sequence[Tensor], text: TextEncoding | None = None) -> DiscriminatorOutput:
        """Score each stage's images: real or not, and (with ``text``) matching its sentence.

        Args:
            images: one ``(b, 3, s, s)`` batch per stage in ``[-1, 1]``, coarse to fine.
            text: the descriptions; only ``text.sentence`` ``(b, d_s)`` is read. None: the
                unconditional scores only.

        Returns:
            :class:`DiscriminatorOutput`: ``reality`` one ``(b,)`` logit tensor per stage and
            ``conformity`` one ``(b,)`` log-probability per stage, or None without text.
        """
        self.check_stage_images(images)
        sentence = None if text is None else text.sentence
        if sentence is not None:
            self.check_sentence(sentence, images[0].shape[0])
        scores = [stage(image, sentence) for stage, image in zip(self.stages, images)]
        reality = tuple(r for r, _ in scores)
        if sentence is None:
            return DiscriminatorOutput(reality=reality)
        return DiscriminatorOutput(
            reality=reality, conformity=tuple(torch.nn.functional.logsigmoid(m) for _, m in scores)
        )
