"""Convolution, per-sample normalisation, activation.

The normalisation is ``GroupNorm`` with one group (statistics over channels and positions
of each image alone), not batch norm: an image's edit then never depends on the other
images of its batch, inference at batch 1 equals inference in a batch, and processes
that split a batch under ``torchrun`` compute exactly what one process computes. One group
removes only each image's overall mean and scale, keeping the balance between channels,
where colour lives.

``make_norm(c, "batch")`` gives batch norm instead, for the text-to-image generators that keep
their references' (AttnGAN, StackGAN++, GAN-INT-CLS): there, normalising each channel over
the batch is what keeps the drawn images apart from one another (with a per-sample norm the
generator learned to ignore its noise and text on generated birds); when drawing, in eval
mode, batch norm uses its running statistics, so a drawn image still does not depend on its
batch.
"""

from __future__ import annotations

from typing import Literal

from torch import nn

__all__ = ["ConvNormAct", "Norm", "make_activation", "make_norm"]


def make_activation(name: str) -> nn.Module:
    """``"relu"``, ``"leaky_relu"`` (slope 0.2) or ``"none"``."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2, inplace=True)
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; use 'relu', 'leaky_relu' or 'none'")


#: the normalisations a block can use (module docstring)
Norm = Literal["group", "batch"]


def make_norm(channels: int, kind: Norm = "group") -> nn.Module:
    """The normalisation of a block: ``GroupNorm(1, channels)``, or ``BatchNorm2d`` with
    ``kind="batch"`` (see the module docstring)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind != "group":
        raise ValueError(f"unknown normalisation {kind!r}; use 'group' or 'batch'")
    return nn.GroupNorm(1, channels)


class ConvNormAct(nn.Sequential):
    """``(b, c_in, h, w) -> (b, c_out, h / stride, w / stride)``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: square kernel; padding keeps the size at stride 1 and halves it at
            stride 2 (for kernels 3 and 4).
        stride: 1 or 2.
        norm: add a :func:`make_norm` normalisation (the convolution then has no bias).
        activation: see :func:`make_activation`.
        norm_kind: which normalisation (:func:`make_norm`'s ``kind``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: bool = True,
        activation: str = "relu",
        norm_kind: Norm = "group",
    ):
        padding = (kernel_size - 1) // 2 if stride == 1 else (kernel_size - stride + 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=not norm)
        ]
        if norm:
            layers.append(make_norm(out_channels, norm_kind))
        layers.append(make_activation(activation))
        super().__init__(*layers)
