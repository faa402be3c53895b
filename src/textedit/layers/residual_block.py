"""Residual block: two 3×3 convolutions with activations and a (projected) shortcut."""

from __future__ import annotations

from torch import Tensor, nn

from textedit.layers.conv_block import ConvNormAct, make_activation, make_norm

__all__ = ["ResidualBlock"]


class ResidualBlock(nn.Module):
    """``(b, c_in, h, w) -> (b, c_out, h, w)``: ``act(x' + conv(act(conv(x))))``.

    The shortcut ``x'`` is ``x`` when the widths match, else a 1×1 projection.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        activation: ``"relu"`` or ``"leaky_relu"``.
    """

    def __init__(self, in_channels: int, out_channels: int, activation: str = "relu"):
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(in_channels, out_channels, activation=activation),
            ConvNormAct(out_channels, out_channels, activation="none"),
        )
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), make_norm(out_channels)
            )
        )
        self.activation = make_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.shortcut(x) + self.body(x))
