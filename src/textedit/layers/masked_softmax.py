"""Softmax over the valid positions only; rows without any valid position give zeros."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["masked_softmax", "masked_log_softmax"]


def masked_log_softmax(scores: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """``log softmax`` of ``scores`` over ``dim`` where ``mask`` holds; ``-inf`` elsewhere.

    ``mask`` broadcasts against ``scores``. A row with no valid position is all ``-inf``.
    """
    scores = scores.masked_fill(~mask, float("-inf"))
    out = torch.log_softmax(scores, dim=dim)
    return out.nan_to_num(nan=float("-inf"))


def masked_softmax(scores: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """``softmax`` of ``scores`` over ``dim`` where ``mask`` holds, exactly zero elsewhere."""
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=dim).nan_to_num(nan=0.0)
