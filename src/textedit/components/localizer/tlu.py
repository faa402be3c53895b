"""MIM-Net's Target Localization Unit (spec section 3)."""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.localizer import Localization, Localizer, fuse
from textedit.registry.api import register_localizer

__all__ = ["TLULocalizer", "TLULocalizerConfig"]


class TLULocalizerConfig(ComponentConfig):
    channels: int = Field(128, gt=0, description="channels c of the feature maps it fuses")
    texture_dim: int = Field(128, gt=0, description="width d of the global texture g")


@register_localizer("tlu")
class TLULocalizer(Localizer):
    """``β_pq = σ((W_β g) · c_pq)``, ``F = β ⊙ C + (1 − β) ⊙ F_x``.

    The global texture asks each position of the coarse features whether it carries that
    texture; positions that do take the edit, the others keep the original features.
    """

    config_class = TLULocalizerConfig

    def __init__(self, config: TLULocalizerConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.projection = nn.Linear(c.texture_dim, c.channels, bias=False)  # W_β
        # the dot product sums c terms: start with unsaturated weights
        nn.init.normal_(self.projection.weight, std=1.0 / math.sqrt(c.texture_dim * c.channels))

    @classmethod
    def example_config(cls) -> TLULocalizerConfig:
        return cls.config_class(channels=6, texture_dim=4)

    @property
    def channels(self) -> int:
        return self.config.channels

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    def forward(self, coarse: Tensor, original: Tensor, texture: Tensor) -> Localization:
        """Fuse.

        Args:
            coarse: ``(b, c, h, w)`` coarse manipulated features ``C``.
            original: ``(b, c, h, w)`` original image features ``F_x``.
            texture: ``(b, d)`` global texture ``g``.

        Returns:
            :class:`Localization` with ``β`` ``(b, 1, h, w)`` and ``F`` ``(b, c, h, w)``.
        """
        query = self.projection(texture)  # (b, c)
        logits = torch.einsum("bc,bchw->bhw", query, coarse)[:, None]
        weights = torch.sigmoid(logits)
        return Localization(weights, fuse(weights, coarse, original))
