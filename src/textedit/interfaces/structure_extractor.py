"""StructureExtractor: the shape of the input, kept while its appearance changes.

Shape legend: ``b`` batch, ``H``/``W`` image size, ``c`` feature channels, ``h``/``w``
feature map size (``H / reduction``).

Contract: an image ``(b, 3, H, W)`` in ``[-1, 1]`` gives a boundary map ``(b, 1, H, W)`` in
``[0, 1]`` and structure features ``(b, c, h, w)`` with ``h = H // reduction``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor

from textedit.interfaces._examples import example_images
from textedit.interfaces.component import Component

__all__ = ["Structure", "StructureExtractor"]


@dataclass
class Structure:
    """Attributes:
    boundary: ``(b, 1, H, W)`` edge strength in ``[0, 1]``.
    features: ``(b, c, h, w)`` structure features.
    """

    boundary: Tensor
    features: Tensor


class StructureExtractor(Component):
    """Abstract structure extractor; see the module docstring for the contract."""

    kind: ClassVar[str] = "structure_extractor"

    @property
    @abstractmethod
    def out_channels(self) -> int:
        """Channels ``c`` of the structure features."""

    @property
    @abstractmethod
    def reduction(self) -> int:
        """Ratio between the image size and the feature map size."""

    @abstractmethod
    def forward(self, image: Tensor) -> Structure:
        """Boundary map and structure features of ``(b, 3, H, W)`` images in ``[-1, 1]``."""

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        return {"image": example_images(batch_size, 8 * self.reduction, seed).to(self.device)}
