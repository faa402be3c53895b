"""A localizer that edits everywhere: ``β ≡ 1`` (the TLU ablation)."""

from __future__ import annotations

from pydantic import Field
from torch import Tensor

from textedit.config.base import ComponentConfig
from textedit.interfaces.localizer import Localization, Localizer
from textedit.registry.api import register_localizer

__all__ = ["EverywhereLocalizer", "EverywhereLocalizerConfig"]


class EverywhereLocalizerConfig(ComponentConfig):
    channels: int = Field(128, gt=0, description="channels c of the feature maps (checked only)")
    texture_dim: int = Field(128, gt=0, description="width d of the global texture (unused)")


@register_localizer("everywhere")
class EverywhereLocalizer(Localizer):
    """Keeps the coarse manipulated features at every position (no parameters).

    MIM-Net without a TLU; useful as an ablation and as the smallest localizer.
    """

    config_class = EverywhereLocalizerConfig

    @classmethod
    def example_config(cls) -> EverywhereLocalizerConfig:
        return cls.config_class(channels=6, texture_dim=4)

    @property
    def channels(self) -> int:
        return self.config.channels

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    def forward(self, coarse: Tensor, original: Tensor, texture: Tensor) -> Localization:
        """``β ≡ 1`` ``(b, 1, h, w)`` and ``F = C``."""
        b, _, h, w = coarse.shape
        return Localization(coarse.new_ones(b, 1, h, w), coarse)
