"""Memory attention: word features read a bank of memories (MIM-Net, spec section 2).

Shape legend: ``b`` batch, ``t`` words, ``n`` memory slots, ``D`` word width, ``d`` memory
width.

For each valid word ``j``: ``a_{j,i} = softmax_i(e_j · W_k m_i)`` and
``t_j = Σ_i a_{j,i} m_i``. Padded words get a zero texture and zero weights.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["memory_attention", "MemoryAttentionOutput", "available_backends"]


class MemoryAttentionOutput(NamedTuple):
    """Attributes:
    texture: ``(b, t, d)`` texture per word, zero at padding.
    attention: ``(b, t, n)`` weights (zero rows at padding), or None when not requested.
    """

    texture: Tensor
    attention: Tensor | None


def available_backends() -> list[str]:
    """Backends usable in this process."""
    return ["reference"]


def memory_attention(
    words: Tensor,
    word_mask: Tensor | None,
    memories: Tensor,
    key_weight: Tensor,
    *,
    backend: str = "auto",
    return_attention: bool = False,
) -> MemoryAttentionOutput:
    """Read ``(n, d)`` memories with ``(b, t, D)`` words; keys are ``memories @ key_weight.T``.

    Args:
        words: ``(b, t, D)`` word features.
        word_mask: ``(b, t)`` bool, True on real words; None means all words are real.
        memories: ``(n, d)`` memory vectors (the values).
        key_weight: ``(D, d)`` key projection ``W_k`` (an ``nn.Linear(d, D).weight``).
        backend: ``"reference"``, or ``"auto"``.
        return_attention: also return the ``(b, t, n)`` weights.
    """
    if word_mask is None:
        word_mask = torch.ones(words.shape[:2], dtype=torch.bool, device=words.device)
    keys = memories @ key_weight.t()
    scores = torch.einsum("btk,nk->btn", words, keys)
    attention = torch.softmax(scores, dim=-1) * word_mask[..., None].to(scores.dtype)
    texture = torch.einsum("btn,nd->btd", attention, memories)
    return MemoryAttentionOutput(texture, attention if return_attention else None)
