"""A localizer that adds a learned spatial prior to MIM-Net's TLU.

``β_pq = σ((W_β g) · c_pq + P(p, q))`` where ``P`` is a learned ``k × k`` logit map,
bilinearly resized to the feature map. The text still decides *what* to edit; the prior
learns *where* edits usually happen in the data set.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from textedit import ComponentConfig, Localizer
from textedit.interfaces import Localization, fuse

__all__ = ["SpatialPriorLocalizer", "SpatialPriorLocalizerConfig"]


class SpatialPriorLocalizerConfig(ComponentConfig):
    """Config of :class:`SpatialPriorLocalizer`."""

    channels: int = Field(128, gt=0, description="Channels c of the feature maps it fuses.")
    texture_dim: int = Field(128, gt=0, description="Width d of the global texture g.")
    prior_size: int = Field(8, gt=0, le=64, description="Side k of the learned k×k prior logit map.")
    prior_init: float = Field(0.0, description="Initial value of every prior logit (0: no preference).")


class SpatialPriorLocalizer(Localizer):
    """TLU weights shifted by a learned spatial prior; see the module docstring.

    Not registered with a decorator: the package's ``pyproject.toml`` declares it in the
    entry-point group ``textedit.localizers``.
    """

    config_class = SpatialPriorLocalizerConfig

    def __init__(self, config: SpatialPriorLocalizerConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.projection = nn.Linear(c.texture_dim, c.channels, bias=False)
        nn.init.normal_(self.projection.weight, std=1.0 / math.sqrt(c.texture_dim * c.channels))
        self.prior = nn.Parameter(torch.full((1, 1, c.prior_size, c.prior_size), c.prior_init))

    @classmethod
    def example_config(cls) -> SpatialPriorLocalizerConfig:
        return cls.config_class(channels=6, texture_dim=4, prior_size=3)

    @property
    def channels(self) -> int:
        return self.config.channels

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    def forward(self, coarse: Tensor, original: Tensor, texture: Tensor) -> Localization:
        """Fuse ``(b, c, h, w)`` coarse and original features given a ``(b, d)`` texture."""
        query = self.projection(texture)
        logits = torch.einsum("bc,bchw->bhw", query, coarse)[:, None]
        prior = F.interpolate(self.prior, size=coarse.shape[-2:], mode="bilinear", align_corners=False)
        weights = torch.sigmoid(logits + prior)
        return Localization(weights, fuse(weights, coarse, original))
