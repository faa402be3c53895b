"""Localizer: where to edit. MIM-Net's Target Localization Unit (TLU) is one.

Shape legend: ``b`` batch, ``c`` feature channels, ``h``/``w`` feature map size, ``d``
texture width.

Contract: given the coarse manipulated features ``C``, the original image features ``F_x``
(both ``(b, c, h, w)``) and a global texture ``g`` ``(b, d)``, return a weight map
``β`` ``(b, 1, h, w)`` with values in ``[0, 1]`` and the fused features
``F = β ⊙ C + (1 − β) ⊙ F_x``, so every element of ``F`` lies between the matching elements
of ``C`` and ``F_x``: ``β ≡ 1`` keeps the edit everywhere, ``β ≡ 0`` keeps the original.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.interfaces._examples import generator_for
from textedit.interfaces.component import Component

__all__ = ["Localization", "Localizer", "fuse"]


def fuse(weights: Tensor, coarse: Tensor, original: Tensor) -> Tensor:
    """``β ⊙ C + (1 − β) ⊙ F_x``, written as ``F_x + β (C − F_x)``."""
    return torch.lerp(original, coarse, weights.to(coarse.dtype))


@dataclass
class Localization:
    """Attributes:
    weights: ``(b, 1, h, w)`` in ``[0, 1]``: how much of the edit each position takes.
    fused: ``(b, c, h, w)`` fused features.
    """

    weights: Tensor
    fused: Tensor


class Localizer(Component):
    """Abstract localizer; see the module docstring for the contract."""

    kind: ClassVar[str] = "localizer"

    @property
    @abstractmethod
    def channels(self) -> int:
        """Feature channels ``c`` it fuses."""

    @property
    @abstractmethod
    def texture_dim(self) -> int:
        """Width ``d`` of the global texture it is conditioned on."""

    @abstractmethod
    def forward(self, coarse: Tensor, original: Tensor, texture: Tensor) -> Localization:
        """Weight map and fused features; see the module docstring."""

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        g = generator_for(seed)
        shape = (batch_size, self.channels, 4, 4)
        return {
            "coarse": torch.randn(shape, generator=g).to(self.device),
            "original": torch.randn(shape, generator=g).to(self.device),
            "texture": torch.randn(batch_size, self.texture_dim, generator=g).to(self.device),
        }
