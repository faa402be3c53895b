"""Blocked memory attention in plain torch: online softmax, fused key projection.

Shape legend: ``r`` rows (the valid words of a batch, flattened), ``n`` memory slots,
``d`` memory width, ``B`` memory block size.

The caller projects words once, ``q = words @ key_weight`` ``(r, d)``, so that the scores
are ``q @ memories.T`` and the ``(n, D)`` keys are never formed. :class:`FusedMemoryAttention`
then walks the memories ``B`` slots at a time, keeping a running max, a running softmax
normaliser and a running weighted sum per row, so at most an ``(r, B)`` block of scores
exists at once, in the forward and in the backward pass (which recomputes the blocks from
the saved output and log-sum-exp, as flash attention does).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["DEFAULT_BLOCK_SIZE", "FusedMemoryAttention", "fused_rows", "default_block_size"]

#: Upper bound of the default block: wider blocks stop paying off on the CPU.
DEFAULT_BLOCK_SIZE = 1024
# Scores per block the default aims at (``r * B``): 256 Ki floats keep a block in L2-sized
# working sets on the CPU and keep the number of Python-level iterations small.
_BLOCK_ELEMENTS = 1 << 18


def default_block_size(rows: int, slots: int) -> int:
    """Memory block size used when none is given: about ``2**18 / rows`` slots, in [64, 1024]."""
    size = max(64, min(DEFAULT_BLOCK_SIZE, _BLOCK_ELEMENTS // max(rows, 1)))
    return min(size, max(slots, 1))


def _accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    # Reduced precision inputs accumulate in float32; float32 and float64 keep their own.
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _forward(q: Tensor, memories: Tensor, block_size: int) -> tuple[Tensor, Tensor]:
    """Texture ``(r, d)`` and log-sum-exp ``(r,)`` of the scores, block by block."""
    rows = q.shape[0]
    running_max = q.new_full((rows, 1), float("-inf"))
    normaliser = q.new_zeros((rows, 1))
    total = q.new_zeros((rows, memories.shape[1]))
    for start in range(0, memories.shape[0], block_size):
        block = memories[start : start + block_size]
        scores = q @ block.t()
        new_max = torch.maximum(running_max, scores.amax(dim=1, keepdim=True))
        # exp(-inf - finite) = 0 on the first block, so the empty running sums drop out.
        rescale = torch.exp(running_max - new_max)
        weights = torch.exp(scores.sub_(new_max))
        normaliser = normaliser * rescale + weights.sum(dim=1, keepdim=True)
        total = torch.addmm(total * rescale, weights, block)
        running_max = new_max
    texture = total / normaliser
    logsumexp = (running_max + torch.log(normaliser)).squeeze(1)
    return texture, logsumexp


def _backward(
    grad_texture: Tensor,
    q: Tensor,
    memories: Tensor,
    texture: Tensor,
    logsumexp: Tensor,
    block_size: int,
) -> tuple[Tensor, Tensor]:
    """Gradients ``(r, d)`` for ``q`` and ``(n, d)`` for the memories.

    With ``p = softmax(s)``, ``s = q m^T`` and ``t = p m``: ``ds = p ⊙ (dt m^T − δ)`` where
    ``δ = rowsum(dt ⊙ t)``; then ``dq = ds m`` and the memories collect both the key path
    ``ds^T q`` and the value path ``p^T dt``.
    """
    delta = (grad_texture * texture).sum(dim=1, keepdim=True)
    lse = logsumexp[:, None]
    grad_q = torch.zeros_like(q)
    grad_memories = torch.empty_like(memories)
    for start in range(0, memories.shape[0], block_size):
        block = memories[start : start + block_size]
        weights = torch.exp((q @ block.t()).sub_(lse))
        grad_scores = (grad_texture @ block.t()).sub_(delta).mul_(weights)
        grad_q.addmm_(grad_scores, block)
        torch.addmm(
            weights.t() @ grad_texture,
            grad_scores.t(),
            q,
            out=grad_memories[start : start + block_size],
        )
    return grad_q, grad_memories


class FusedMemoryAttention(torch.autograd.Function):
    """``softmax(q @ memories.T) @ memories`` for ``(r, d)`` rows without an ``(r, n)`` tensor.

    Saves ``q``, the memories, the texture and the ``(r,)`` log-sum-exp; the backward pass
    recomputes each block of weights. Not twice differentiable.
    """

    @staticmethod
    def forward(ctx, q: Tensor, memories: Tensor, block_size: int) -> Tensor:
        dtype = q.dtype
        acc = _accumulation_dtype(dtype)
        q_acc, memories_acc = q.to(acc), memories.to(acc)
        texture, logsumexp = _forward(q_acc, memories_acc, block_size)
        ctx.save_for_backward(q_acc, memories_acc, texture, logsumexp)
        ctx.block_size = block_size
        return texture.to(dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_texture: Tensor):
        q, memories, texture, logsumexp = ctx.saved_tensors
        grad_q, grad_memories = _backward(
            grad_texture.to(q.dtype), q, memories, texture, logsumexp, ctx.block_size
        )
        return grad_q.to(grad_texture.dtype), grad_memories.to(grad_texture.dtype), None


def fused_rows(q: Tensor, memories: Tensor, block_size: int | None = None) -> Tensor:
    """Texture ``(r, d)`` for projected rows ``q`` ``(r, d)`` and memories ``(n, d)``."""
    if block_size is None:
        block_size = default_block_size(q.shape[0], memories.shape[0])
    return FusedMemoryAttention.apply(q, memories, block_size)
