"""ImageEncoder: an image in, region features and one global feature out (DAMSM's encoders).

Shape legend: ``b`` batch, ``H``/``W`` input image size, ``S`` the encoder's own input side
(``image_size``), ``d`` feature width (``feature_dim``), ``r`` the side of the region grid
(``region_size``).

Contract: :meth:`ImageEncoder.forward` takes images ``(b, 3, H, W)`` in ``[-1, 1]`` of any
size (the encoder resizes them to ``S × S`` itself) and returns an :class:`ImageEncoding`
with local features ``regions`` ``(b, d, r, r)`` — one ``d``-vector per image region, what
word-to-region attention reads — and a ``global_feature`` ``(b, d)`` for the whole image,
what is compared with a sentence feature. Both are finite and live in the same ``d``-wide
space as a text encoder's word and sentence features when the two are trained together
(AttnGAN's DAMSM). In eval mode an image's features do not depend on the other images of
its batch.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.errors import InputError
from textedit.interfaces._examples import example_images
from textedit.interfaces.component import Component

__all__ = ["ImageEncoding", "ImageEncoder"]


@dataclass
class ImageEncoding:
    """What an image encoder produces.

    Attributes:
        regions: ``(b, d, r, r)`` local features, one ``d``-vector per image region.
        global_feature: ``(b, d)`` feature of the whole image.
    """

    regions: Tensor
    global_feature: Tensor

    def detach(self) -> "ImageEncoding":
        """A copy cut from the autograd graph."""
        return ImageEncoding(self.regions.detach(), self.global_feature.detach())


class ImageEncoder(Component):
    """Abstract image encoder; see the module docstring for the contract."""

    kind: ClassVar[str] = "image_encoder"

    @property
    @abstractmethod
    def image_size(self) -> int:
        """Side ``S`` the encoder reads; inputs of another size are resized to it."""

    @property
    @abstractmethod
    def feature_dim(self) -> int:
        """Width ``d`` of the region and global features."""

    @property
    @abstractmethod
    def region_size(self) -> int:
        """Side ``r`` of the region grid."""

    @abstractmethod
    def forward(self, image: Tensor) -> ImageEncoding:
        """Region and global features of ``(b, 3, H, W)`` images in ``[-1, 1]``."""

    def encode(self, image: Tensor) -> ImageEncoding:
        """Check the images, move them to this encoder's device as float32 and encode them.

        Raises:
            InputError: ``image`` is not a ``(b, 3, H, W)`` tensor.
        """
        if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[1] != 3:
            shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
            raise InputError(f"an image encoder reads (b, 3, H, W) images in [-1, 1], got {shape}")
        return self(image.to(device=self.device, dtype=torch.float32))

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        return {"image": example_images(batch_size, self.image_size, seed).to(self.device)}
