"""Nearest-neighbour ×2 upsampling followed by a 3×3 convolution block."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from textedit.layers.conv_block import ConvNormAct

__all__ = ["UpsampleBlock"]


class UpsampleBlock(nn.Module):
    """``(b, c_in, h, w) -> (b, c_out, 2h, 2w)``.

    Nearest upsampling then a convolution avoids the checkerboard artefacts of transposed
    convolutions at the same cost.
    """

    def __init__(self, in_channels: int, out_channels: int, activation: str = "relu"):
        super().__init__()
        self.conv = ConvNormAct(in_channels, out_channels, activation=activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
