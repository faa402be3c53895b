"""Triton kernels for memory attention (forward and backward), flash-attention style.

Shape legend: ``r`` rows (words, flattened over the batch), ``n`` memory slots, ``d``
memory width; ``R``, ``N``, ``P`` are the row block, slot block and the padded width (``d``
rounded up to a power of two).

Importing this module imports triton, so :mod:`textedit.ops.memory_attention` imports it
only when the ``"triton"`` backend runs. The kernels run on CUDA tensors, and on CPU
tensors under the Triton interpreter (``TRITON_INTERPRET=1`` set before triton is
imported), which is how the test suite checks them on machines without a GPU.

The math is the one of :mod:`textedit.ops._fused_memory_attention`: the forward kernel
keeps a running max, normaliser and weighted sum per row over blocks of memories and saves
the log-sum-exp; the backward pass recomputes each block of weights, once in a kernel that
owns a block of rows (``dq``) and once in a kernel that owns a block of slots (``dm``, both
the key and the value contribution), so neither needs atomics.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["TritonMemoryAttention", "triton_rows"]


@triton.jit
def _forward_kernel(
    q_ptr, m_ptr, out_ptr, lse_ptr, rows, slots, width,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    p = tl.arange(0, BLOCK_P)
    row_ok = r < rows
    tile_ok = row_ok[:, None] & (p[None, :] < width)
    q = tl.load(q_ptr + r[:, None] * width + p[None, :], mask=tile_ok, other=0.0).to(ACC)
    running_max = tl.full([BLOCK_R], float("-inf"), ACC)
    normaliser = tl.zeros([BLOCK_R], ACC)
    total = tl.zeros([BLOCK_R, BLOCK_P], ACC)
    for start in range(0, slots, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        slot_ok = n < slots
        mem_ok = slot_ok[:, None] & (p[None, :] < width)
        mem = tl.load(m_ptr + n[:, None] * width + p[None, :], mask=mem_ok, other=0.0).to(ACC)
        scores = tl.dot(q, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        scores = tl.where(slot_ok[None, :], scores, float("-inf"))
        new_max = tl.maximum(running_max, tl.max(scores, 1))
        rescale = tl.exp(running_max - new_max)
        weights = tl.exp(scores - new_max[:, None])
        normaliser = normaliser * rescale + tl.sum(weights, 1)
        total = total * rescale[:, None] + tl.dot(
            weights, mem, input_precision=PRECISION, out_dtype=ACC
        )
        running_max = new_max
    out = total / normaliser[:, None]
    tl.store(out_ptr + r[:, None] * width + p[None, :], out, mask=tile_ok)
    tl.store(lse_ptr + r, running_max + tl.log(normaliser), mask=row_ok)


@triton.jit
def _grad_q_kernel(
    q_ptr, m_ptr, dout_ptr, lse_ptr, delta_ptr, dq_ptr, rows, slots, width,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    p = tl.arange(0, BLOCK_P)
    row_ok = r < rows
    tile_ok = row_ok[:, None] & (p[None, :] < width)
    offsets = r[:, None] * width + p[None, :]
    q = tl.load(q_ptr + offsets, mask=tile_ok, other=0.0).to(ACC)
    dout = tl.load(dout_ptr + offsets, mask=tile_ok, other=0.0).to(ACC)
    lse = tl.load(lse_ptr + r, mask=row_ok, other=0.0)
    delta = tl.load(delta_ptr + r, mask=row_ok, other=0.0)
    dq = tl.zeros([BLOCK_R, BLOCK_P], ACC)
    for start in range(0, slots, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        slot_ok = n < slots
        mem_ok = slot_ok[:, None] & (p[None, :] < width)
        mem = tl.load(m_ptr + n[:, None] * width + p[None, :], mask=mem_ok, other=0.0).to(ACC)
        scores = tl.dot(q, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        weights = tl.where(slot_ok[None, :], tl.exp(scores - lse[:, None]), 0.0)
        dweights = tl.dot(dout, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        dscores = weights * (dweights - delta[:, None])
        dq += tl.dot(dscores, mem, input_precision=PRECISION, out_dtype=ACC)
    tl.store(dq_ptr + offsets, dq, mask=tile_ok)


@triton.jit
def _grad_m_kernel(
    q_ptr, m_ptr, dout_ptr, lse_ptr, delta_ptr, dm_ptr, rows, slots, width,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    n = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    p = tl.arange(0, BLOCK_P)
    slot_ok = n < slots
    mem_ok = slot_ok[:, None] & (p[None, :] < width)
    mem = tl.load(m_ptr + n[:, None] * width + p[None, :], mask=mem_ok, other=0.0).to(ACC)
    dm = tl.zeros([BLOCK_N, BLOCK_P], ACC)
    for start in range(0, rows, BLOCK_R):
        r = start + tl.arange(0, BLOCK_R)
        row_ok = r < rows
        tile_ok = row_ok[:, None] & (p[None, :] < width)
        offsets = r[:, None] * width + p[None, :]
        q = tl.load(q_ptr + offsets, mask=tile_ok, other=0.0).to(ACC)
        dout = tl.load(dout_ptr + offsets, mask=tile_ok, other=0.0).to(ACC)
        lse = tl.load(lse_ptr + r, mask=row_ok, other=0.0)
        delta = tl.load(delta_ptr + r, mask=row_ok, other=0.0)
        scores = tl.dot(q, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        # Rows past the end load q = 0 and lse = 0, which would give weight 1: mask them.
        weights = tl.where(row_ok[:, None], tl.exp(scores - lse[:, None]), 0.0)
        dweights = tl.dot(dout, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        dscores = weights * (dweights - delta[:, None])
        dm += tl.dot(tl.trans(dscores), q, input_precision=PRECISION, out_dtype=ACC)
        dm += tl.dot(tl.trans(weights), dout, input_precision=PRECISION, out_dtype=ACC)
    tl.store(dm_ptr + n[:, None] * width + p[None, :], dm, mask=mem_ok)


def _config(width: int, dtype: torch.dtype) -> dict:
    """Block sizes and accumulation type for a memory width and input dtype."""
    padded = max(16, triton.next_power_of_2(width))
    # Keep a row block's accumulators ((R, P) and (N, P)) within a reasonable register budget.
    block = 64 if padded <= 64 else 32 if padded <= 256 else 16
    if dtype == torch.float64:
        acc, precision = tl.float64, "ieee"
    else:
        # ieee, not tf32: the backends must agree to float32 tolerance.
        acc, precision = tl.float32, "ieee"
    return dict(BLOCK_R=block, BLOCK_N=block, BLOCK_P=padded, ACC=acc, PRECISION=precision)


class TritonMemoryAttention(torch.autograd.Function):
    """``softmax(q @ memories.T) @ memories`` for ``(r, d)`` rows, by Triton kernels."""

    @staticmethod
    def forward(ctx, q: Tensor, memories: Tensor) -> Tensor:
        q, memories = q.contiguous(), memories.contiguous()
        rows, width = q.shape
        slots = memories.shape[0]
        acc_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
        config = _config(width, q.dtype)
        out = torch.empty(rows, width, dtype=acc_dtype, device=q.device)
        lse = torch.empty(rows, dtype=acc_dtype, device=q.device)
        grid = (triton.cdiv(rows, config["BLOCK_R"]),)
        _forward_kernel[grid](q, memories, out, lse, rows, slots, width, **config)
        ctx.save_for_backward(q, memories, out, lse)
        return out.to(q.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        q, memories, out, lse = ctx.saved_tensors
        rows, width = q.shape
        slots = memories.shape[0]
        config = _config(width, q.dtype)
        grad_out = grad_out.contiguous()
        delta = (grad_out.to(out.dtype) * out).sum(dim=1)
        grad_q = torch.empty(rows, width, dtype=out.dtype, device=q.device)
        grad_m = torch.empty(slots, width, dtype=out.dtype, device=q.device)
        args = (q, memories, grad_out, lse, delta)
        grid_q = (triton.cdiv(rows, config["BLOCK_R"]),)
        _grad_q_kernel[grid_q](*args, grad_q, rows, slots, width, **config)
        grid_m = (triton.cdiv(slots, config["BLOCK_N"]),)
        _grad_m_kernel[grid_m](*args, grad_m, rows, slots, width, **config)
        return grad_q.to(q.dtype), grad_m.to(memories.dtype)


def triton_rows(q: Tensor, memories: Tensor) -> Tensor:
    """Texture ``(r, d)`` for projected rows ``q`` ``(r, d)`` and memories ``(n, d)``."""
    return TritonMemoryAttention.apply(q, memories)
