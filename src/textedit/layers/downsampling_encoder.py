"""A stack of stride-2 convolution blocks that returns every level's features."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from textedit.layers.conv_block import ConvNormAct

__all__ = ["DownsamplingEncoder"]


class DownsamplingEncoder(nn.Module):
    """``(b, c_in, H, W) -> [(b, widths[k], H / 2^(k+1), W / 2^(k+1)) for each k]``.

    Args:
        in_channels: input channels.
        widths: output channels of each stride-2 block (one halving per entry).
        kernel_size: 3 (generators) or 4 (DCGAN-style discriminators).
        activation: ``"relu"`` or ``"leaky_relu"``.
        norm_first: normalise the first block too (discriminators usually do not).
    """

    def __init__(
        self,
        in_channels: int,
        widths: Sequence[int],
        kernel_size: int = 3,
        activation: str = "relu",
        norm_first: bool = True,
    ):
        super().__init__()
        if not widths:
            raise ValueError("DownsamplingEncoder needs at least one width")
        channels = [in_channels, *widths]
        self.blocks = nn.ModuleList(
            ConvNormAct(
                channels[k],
                channels[k + 1],
                kernel_size,
                stride=2,
                norm=norm_first or k > 0,
                activation=activation,
            )
            for k in range(len(widths))
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features
