"""Tiny components and a composition used to test the foundation without MIM-Net."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from textedit.config import ComponentConfig, CompositionConfig, SlotSpec
from textedit.interfaces import Composition, Localization, Localizer, fuse


class ToyLocalizerConfig(ComponentConfig):
    channels: int = Field(4, gt=0, description="Feature channels c.")
    texture_dim: int = Field(3, gt=0, description="Global texture width d.")


class ToyLocalizer(Localizer):
    """β = σ(⟨W g, c_pq⟩): the TLU without anything else."""

    config_class = ToyLocalizerConfig

    def __init__(self, config=None):
        super().__init__(config)
        self.proj = nn.Linear(self.config.texture_dim, self.config.channels)

    @property
    def channels(self) -> int:
        return self.config.channels

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    def forward(self, coarse, original, texture):
        logits = torch.einsum("bc,bchw->bhw", self.proj(texture), coarse)[:, None]
        weights = torch.sigmoid(logits)
        return Localization(weights, fuse(weights, coarse, original))


class ToyModelConfig(CompositionConfig):
    localizer: SlotSpec("localizer") = Field("toy_localizer", description="Where to edit.")
    size: int = Field(4, gt=0, description="Feature map size.")


class ToyModel(Composition):
    """One slot and a forward pass, enough to test saving and loading."""

    config_class = ToyModelConfig

    def forward(self, coarse, original, texture):
        return self.localizer(coarse, original, texture).fused


def register() -> None:
    from textedit.registry.kinds import get_registry

    get_registry("localizer").add("toy_localizer", ToyLocalizer, force=True)
    get_registry("model").add("toy_model", ToyModel, force=True)


def unregister() -> None:
    from textedit.registry.kinds import get_registry

    get_registry("localizer").unregister("toy_localizer")
    get_registry("model").unregister("toy_model")
