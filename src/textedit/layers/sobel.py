"""Boundary map of an image: Sobel gradient magnitude of its luminance."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SobelEdges"]

_LUMA = (0.299, 0.587, 0.114)


class SobelEdges(nn.Module):
    """``(b, 3, H, W)`` images in ``[-1, 1]`` -> ``(b, 1, H, W)`` edge strength in ``[0, 1]``.

    Each map is divided by its own maximum, so the strongest edge of every image is 1 and a
    flat image gives zeros. Borders are replicated so the frame is not an edge.
    """

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        gx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
        self.register_buffer("kernel", torch.stack([gx, gx.t()])[:, None], persistent=False)
        self.register_buffer("luma", torch.tensor(_LUMA).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: Tensor) -> Tensor:
        luma = ((image + 1) * 0.5 * self.luma.to(image.dtype)).sum(1, keepdim=True)
        grad = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), self.kernel.to(image.dtype))
        magnitude = grad.square().sum(1, keepdim=True).add(self.eps**2).sqrt() - self.eps
        peak = magnitude.amax(dim=(2, 3), keepdim=True).clamp_min(self.eps)
        return (magnitude / peak).clamp(0.0, 1.0)
