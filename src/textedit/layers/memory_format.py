"""Keeping a network in one memory format.

A convolution whose input is laid out otherwise than its weights converts the input on
every call, forward and backward; ``torch.cat`` of maps in different layouts returns the
planar one. The helpers here build maps in the layout of the maps they join.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["is_channels_last", "positions", "positions_product", "tile_like", "weights_format"]


def is_channels_last(x: Tensor) -> bool:
    """Whether the ``(b, c, h, w)`` map ``x`` is laid out channels-last (and not also
    planar, as a map with one channel or one position is)."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def tile_like(vector: Tensor, like: Tensor) -> Tensor:
    """``(b, c)`` -> ``(b, c, h, w)``: ``vector`` repeated over the positions of the map
    ``like``, a broadcast view, or materialised channels-last when ``like`` is channels-last
    (so that concatenating the two keeps that layout)."""
    tiled = vector[:, :, None, None].expand(-1, -1, *like.shape[-2:])
    if is_channels_last(like):
        return tiled.contiguous(memory_format=torch.channels_last)
    return tiled


def positions(x: Tensor) -> Tensor:
    """``(b, c, h, w)`` -> ``(b, h·w, c)``, one row per position: a view in either layout."""
    return x.permute(0, 2, 3, 1).flatten(1, 2)


def positions_product(rows: Tensor, columns: Tensor, like: Tensor) -> Tensor:
    """``rows @ columns``, ``(b, h·w, k) @ (b, k, c)``, as a ``(b, c, h, w)`` map laid out
    like the map ``like``: the product is taken in the orientation that writes that layout
    directly (positions × channels for channels-last, channels × positions otherwise)."""
    b, h, w = like.shape[0], *like.shape[-2:]
    if is_channels_last(like):
        return torch.bmm(rows, columns).view(b, h, w, -1).permute(0, 3, 1, 2)
    return torch.bmm(columns.transpose(1, 2), rows.transpose(1, 2)).view(b, -1, h, w)


def weights_format(module: nn.Module) -> torch.memory_format:
    """``torch.channels_last`` when the first convolution kernel of ``module`` that tells
    the layouts apart is laid out channels-last (after
    ``module.to(memory_format=torch.channels_last)``), else ``torch.contiguous_format``: the
    layout its maps should be in."""
    for tensor in module.parameters():
        if tensor.dim() != 4:
            continue
        planar = tensor.is_contiguous()
        if planar != tensor.is_contiguous(memory_format=torch.channels_last):
            # (a 1×1 or one-channel kernel is both, and says nothing)
            return torch.contiguous_format if planar else torch.channels_last
    return torch.contiguous_format
