"""AttnGAN's gated blocks, shared by the multi-stage generators (ManiGAN, AttnGAN,
StackGAN++).

Shape legend: ``b`` batch, ``c`` channels, ``s`` map side.
"""

from __future__ import annotations

from torch import Tensor, nn

from textedit.layers.conv_block import Norm, make_norm

__all__ = ["GLUBlock", "GLUResidualBlock"]


class GLUBlock(nn.Sequential):
    """``conv3×3(c_in -> 2 c_out)``, norm, GLU: AttnGAN's ``Block3x3_relu`` (``upBlock`` with
    ``upsample``: nearest ×2 first), ``(b, c_in, s, s) -> (b, c_out, s', s')``; ``norm`` as
    :func:`~textedit.layers.conv_block.make_norm`."""

    def __init__(self, in_channels: int, out_channels: int, upsample: bool = False, norm: Norm = "group"):
        layers: list[nn.Module] = [nn.Upsample(scale_factor=2.0, mode="nearest")] if upsample else []
        layers += [
            nn.Conv2d(in_channels, 2 * out_channels, 3, padding=1, bias=False),
            make_norm(2 * out_channels, norm),
            nn.GLU(dim=1),
        ]
        super().__init__(*layers)


class GLUResidualBlock(nn.Module):
    """``x + norm(conv(GLU(norm(conv(x)))))`` (AttnGAN's ``ResBlock``), shape-preserving."""

    def __init__(self, channels: int, norm: Norm = "group"):
        super().__init__()
        self.body = nn.Sequential(
            GLUBlock(channels, channels, norm=norm),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            make_norm(channels, norm),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)
