"""Random but valid inputs for the interfaces' ``example_inputs`` (tests and the kit)."""

from __future__ import annotations

import torch
from torch import Tensor


def generator_for(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def example_mask(batch_size: int, length: int, seed: int) -> Tensor:
    """``(b, t)`` bool mask with row lengths in ``[1, t]``, the first row full."""
    g = generator_for(seed)
    lengths = torch.randint(1, length + 1, (batch_size,), generator=g)
    lengths[0] = length
    return torch.arange(length)[None, :] < lengths[:, None]


def example_words(batch_size: int, length: int, dim: int, seed: int) -> tuple[Tensor, Tensor]:
    """Word features zeroed at padding, and their mask."""
    mask = example_mask(batch_size, length, seed)
    words = torch.randn(batch_size, length, dim, generator=generator_for(seed + 1))
    return words * mask[..., None], mask


def example_images(batch_size: int, size: int, seed: int, channels: int = 3) -> Tensor:
    """Images in ``[-1, 1]``."""
    g = generator_for(seed)
    return torch.rand(batch_size, channels, size, size, generator=g) * 2 - 1
