"""Triton kernels for memory attention (forward and backward), FlashAttention-2 style.

Shape legend: ``r`` rows (words, flattened over the batch), ``n`` memory slots, ``d``
memory width, ``S`` slot splits; ``R``, ``N``, ``P`` are the row block, the slot block and
the padded width (``d`` rounded up to a power of two).

Importing this module imports triton, so :mod:`textedit.ops.memory_attention` imports it
only when the ``"triton"`` backend runs. The kernels run on CUDA tensors, and on CPU
tensors under the Triton interpreter (``TRITON_INTERPRET=1`` set before triton is
imported), which is how the test suite checks them on machines without a GPU.

The math is the one of :mod:`textedit.ops._fused_memory_attention` (scores
``s = q mᵀ``, ``p = softmax(s)``, texture ``t = p m``), organised for a GPU:

* **Split over slots as well as rows.** Memory attention has few rows (``b·t``: 144 words
  at batch 8) and many slots (up to 65 536), so one program per block of rows leaves most
  of a GPU idle. The forward and ``dq`` kernels run on a ``(row blocks, S)`` grid, each
  program walking one chunk of slots; the forward writes a normalised partial texture and
  log-sum-exp per split, which :func:`_merge_splits` combines (the "flash-decoding" merge),
  and the ``dq`` partials are summed. ``S`` is chosen from the number of row blocks and the
  device's multiprocessor count (:func:`_slot_chunk`).
* **Online softmax, nothing of size (r, n).** A running max, normaliser and weighted sum per
  row in the forward; the backward recomputes each block of scores from the saved
  log-sum-exp. The ``dM`` kernel owns a block of slots and computes its scores transposed
  (``sᵀ = m qᵀ``), accumulating both the key term ``dsᵀ q`` and the value term ``pᵀ dt``:
  no atomics, deterministic results.
* **Tensor cores.** Every product is a ``tl.dot`` on ``(R, P)`` × ``(P, N)`` tiles,
  accumulated in float32 (float64 for float64 inputs). bfloat16/float16 inputs go to the
  tensor cores as they are (the softmax weights are cast to the input type for the second
  product, as FlashAttention does); float32 inputs use TF32 exactly when torch would for a
  matmul (``torch.get_float32_matmul_precision() != "highest"``), else full-precision
  ("ieee") products.
* **Autotuned block sizes.** On a GPU each kernel is wrapped in ``triton.autotune`` over
  row/slot blocks, warps and pipeline stages, keyed by the padded width and the row and
  slot counts rounded to powers of two; configurations whose tiles would not fit the
  registers or the shared memory (:func:`_fits`) are pruned before tuning. Under the
  interpreter one small configuration runs, with small slot chunks so that the
  split-and-merge path is exercised.
"""

from __future__ import annotations

import functools
import inspect
import os

import torch
import triton
import triton.language as tl
import triton.testing
from torch import Tensor

__all__ = ["TritonMemoryAttention", "triton_rows"]

_INTERPRETING = os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@triton.jit
def _rows(ptr, index, index_ok, p, width, DOT: tl.constexpr):
    """The ``(len(index), P)`` tile of rows ``index`` of a row-major ``(·, width)`` matrix,
    zero where ``index_ok`` is False or past the width, as type ``DOT``."""
    ok = index_ok[:, None] & (p[None, :] < width)
    return tl.load(ptr + index[:, None] * width + p[None, :], mask=ok, other=0.0).to(DOT)


@triton.jit
def _forward_kernel(
    q_ptr, m_ptr, out_ptr, lse_ptr, rows, slots, width, chunk, rows_key, slots_key,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, DOT: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    split = tl.program_id(1)
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    p = tl.arange(0, BLOCK_P)
    row_ok = r < rows
    width_ok = p < width
    tile_ok = row_ok[:, None] & width_ok[None, :]
    q = _rows(q_ptr, r, row_ok, p, width, DOT)
    first = split * chunk
    last = tl.minimum(first + chunk, slots)
    running_max = tl.full([BLOCK_R], float("-inf"), ACC)
    normaliser = tl.zeros([BLOCK_R], ACC)
    total = tl.zeros([BLOCK_R, BLOCK_P], ACC)
    for start in range(first, last, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        slot_ok = n < last
        mem = _rows(m_ptr, n, slot_ok, p, width, DOT)
        scores = tl.dot(q, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        scores = tl.where(slot_ok[None, :], scores, float("-inf"))
        new_max = tl.maximum(running_max, tl.max(scores, 1))
        rescale = tl.exp(running_max - new_max)
        weights = tl.exp(scores - new_max[:, None])
        normaliser = normaliser * rescale + tl.sum(weights, 1)
        total = total * rescale[:, None] + tl.dot(
            weights.to(DOT), mem, input_precision=PRECISION, out_dtype=ACC
        )
        running_max = new_max
    # Every chunk holds at least one slot, so the normaliser is >= 1 on every row.
    base = split * rows
    tl.store(
        out_ptr + (base + r)[:, None] * width + p[None, :],
        total / normaliser[:, None],
        mask=tile_ok,
    )
    tl.store(lse_ptr + base + r, running_max + tl.log(normaliser), mask=row_ok)


@triton.jit
def _grad_q_kernel(
    q_ptr, m_ptr, dout_ptr, lse_ptr, delta_ptr, dq_ptr, rows, slots, width, chunk,
    rows_key, slots_key,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, DOT: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    split = tl.program_id(1)
    r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    p = tl.arange(0, BLOCK_P)
    row_ok = r < rows
    width_ok = p < width
    tile_ok = row_ok[:, None] & width_ok[None, :]
    q = _rows(q_ptr, r, row_ok, p, width, DOT)
    dout = _rows(dout_ptr, r, row_ok, p, width, DOT)
    lse = tl.load(lse_ptr + r, mask=row_ok, other=0.0)
    delta = tl.load(delta_ptr + r, mask=row_ok, other=0.0)
    first = split * chunk
    last = tl.minimum(first + chunk, slots)
    dq = tl.zeros([BLOCK_R, BLOCK_P], ACC)
    for start in range(first, last, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        slot_ok = n < last
        mem = _rows(m_ptr, n, slot_ok, p, width, DOT)
        scores = tl.dot(q, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        weights = tl.where(slot_ok[None, :], tl.exp(scores - lse[:, None]), 0.0)
        dweights = tl.dot(dout, tl.trans(mem), input_precision=PRECISION, out_dtype=ACC)
        dscores = weights * (dweights - delta[:, None])
        dq += tl.dot(dscores.to(DOT), mem, input_precision=PRECISION, out_dtype=ACC)
    tl.store(dq_ptr + (split * rows + r)[:, None] * width + p[None, :], dq, mask=tile_ok)


@triton.jit
def _grad_m_kernel(
    q_ptr, m_ptr, dout_ptr, lse_ptr, delta_ptr, dm_ptr, rows, slots, width,
    rows_key, slots_key,
    BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_P: tl.constexpr,
    ACC: tl.constexpr, DOT: tl.constexpr, PRECISION: tl.constexpr,
):  # fmt: skip
    n = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    p = tl.arange(0, BLOCK_P)
    slot_ok = n < slots
    width_ok = p < width
    mem_ok = slot_ok[:, None] & width_ok[None, :]
    mem = _rows(m_ptr, n, slot_ok, p, width, DOT)
    dm = tl.zeros([BLOCK_N, BLOCK_P], ACC)
    for start in range(0, rows, BLOCK_R):
        r = start + tl.arange(0, BLOCK_R)
        row_ok = r < rows
        q = _rows(q_ptr, r, row_ok, p, width, DOT)
        dout = _rows(dout_ptr, r, row_ok, p, width, DOT)
        lse = tl.load(lse_ptr + r, mask=row_ok, other=0.0)
        delta = tl.load(delta_ptr + r, mask=row_ok, other=0.0)
        # Transposed (N, R) tiles: the products then land in dM's (N, P) layout directly.
        scores_t = tl.dot(mem, tl.trans(q), input_precision=PRECISION, out_dtype=ACC)
        # Rows past the end load q = 0 and lse = 0, which would give weight 1: mask them.
        weights_t = tl.where(row_ok[None, :], tl.exp(scores_t - lse[None, :]), 0.0)
        dweights_t = tl.dot(mem, tl.trans(dout), input_precision=PRECISION, out_dtype=ACC)
        dscores_t = weights_t * (dweights_t - delta[None, :])
        dm += tl.dot(dscores_t.to(DOT), q, input_precision=PRECISION, out_dtype=ACC)
        dm += tl.dot(weights_t.to(DOT), dout, input_precision=PRECISION, out_dtype=ACC)
    tl.store(dm_ptr + n[:, None] * width + p[None, :], dm, mask=mem_ok)


# ----------------------------------------------------------------------------- launch plans

# What one program may hold, calibrated with benchmarks/triton_aot.py (which compiles every
# configuration for sm_90 with Triton's own ptxas and reads registers, spills and shared
# memory from the cubin): the tiles a kernel keeps live (its (·, P) rows and its (R, N)
# scores, in float32) fit about 20 KiB per warp before registers spill, and its shared
# memory (the streamed operand tiles, once per pipeline stage) must stay under 227 KiB per
# block on an H100/H200.
_REGISTER_BYTES_PER_WARP = 20 * 1024
_SHARED_BYTES = 227 * 1024
# A row block of more elements than this spilled in every kernel (128 rows at width 256).
_ROW_BLOCK_ELEMENTS = 16 * 1024


def _fits(config: triton.Config, name: str, padded: int, item: int) -> bool:
    """Whether kernel ``name``'s tiles under ``config`` fit the register and shared-memory
    budgets at padded width ``padded`` and input element size ``item``. Approximate (the
    autotuner skips a configuration that fails to launch anyway): it prunes what would
    only spill or waste autotuning time."""
    r, n = config.kwargs["BLOCK_R"], config.kwargs["BLOCK_N"]
    stages = max(1, config.num_stages)
    rows = {"forward": r + n, "dq": r + n, "dm": r + 3 * n}[name]  # (·, P) tiles live
    shared = {"forward": r + stages * n, "dq": 2 * r + (stages + 1) * n, "dm": 3 * r + 2 * n}[name]
    return (
        r * padded <= _ROW_BLOCK_ELEMENTS
        and (rows * padded + 2 * r * n) * 4 <= config.num_warps * _REGISTER_BYTES_PER_WARP
        and shared * padded * item <= _SHARED_BYTES
    )


def _tuning_configs(name: str, padded: int, item: int) -> list[triton.Config]:
    # Eight warps for rows wider than 64 (measured: four spill at width 256 from 32×64
    # tiles on), four below; 10–26 configurations survive the pruning.
    warps = 8 if padded >= 128 else 4
    configs = [
        triton.Config({"BLOCK_R": br, "BLOCK_N": bn}, num_warps=warps, num_stages=stages)
        for br in (16, 32, 64, 128)
        for bn in (16, 32, 64, 128)
        for stages in (2, 3)
    ]
    kept = [c for c in configs if _fits(c, name, padded, item)]
    return kept or [triton.Config({"BLOCK_R": 16, "BLOCK_N": 16}, num_warps=warps, num_stages=1)]


def _tuning_options() -> dict:
    """Short timing runs for the autotuner (5 ms warm-up, 20 ms measured per configuration,
    instead of 25 and 100: 10–30 configurations per kernel and shape), and its results kept
    on disk between processes, where this triton supports both."""
    accepted = inspect.signature(triton.autotune).parameters
    options: dict = {}
    if "do_bench" in accepted:
        options["do_bench"] = functools.partial(triton.testing.do_bench, warmup=5, rep=20)
    if "cache_results" in accepted:
        options["cache_results"] = True
    return options


_TUNING = _tuning_options()

_INTERPRETER_CONFIG = {"BLOCK_R": 16, "BLOCK_N": 16}
_KEYS = ["rows_key", "slots_key", "width"]


@functools.lru_cache(maxsize=None)
def _kernel(name: str, padded: int, item: int):
    """The kernel ``name``, autotuned for this padded width on a GPU; the plain kernel under
    the interpreter (launched with :data:`_INTERPRETER_CONFIG`)."""
    kernel = {"forward": _forward_kernel, "dq": _grad_q_kernel, "dm": _grad_m_kernel}[name]
    if _INTERPRETING:
        return kernel
    return triton.autotune(configs=_tuning_configs(name, padded, item), key=_KEYS, **_TUNING)(kernel)



def _launch(name: str, grid_for, args: tuple, padded: int, item: int, **constants) -> None:
    kernel = _kernel(name, padded, item)
    if _INTERPRETING:
        kernel[grid_for(_INTERPRETER_CONFIG)](*args, **_INTERPRETER_CONFIG, **constants)
    else:
        kernel[grid_for](*args, **constants)


def _multiprocessors(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 2  # the interpreter: a pretend GPU small enough that tests split the slots


def _slot_chunk(rows: int, slots: int, device: torch.device) -> int:
    """Slots per split: enough splits that ``row blocks × splits`` gives every
    multiprocessor two programs, but no chunk under 512 slots (a few slot blocks per
    program) on a GPU, 32 under the interpreter. The partial results cost ``splits × r × d``
    floats: at 8×18 words, width 256 and 132 multiprocessors, 88 splits, 13 MiB."""
    smallest, align = (32, 16) if _INTERPRETING else (512, 128)
    row_blocks = triton.cdiv(rows, 64)
    splits = max(1, triton.cdiv(2 * _multiprocessors(device), row_blocks))
    splits = min(splits, max(1, slots // smallest))
    return triton.cdiv(triton.cdiv(slots, splits), align) * align


def _merge_splits(partial: Tensor, partial_lse: Tensor) -> tuple[Tensor, Tensor]:
    """Combine per-split normalised textures ``(S, r, d)`` and log-sum-exps ``(S, r)``."""
    if partial.shape[0] == 1:
        return partial[0], partial_lse[0]
    lse = torch.logsumexp(partial_lse, dim=0)
    share = torch.exp(partial_lse - lse)  # each split's share of the softmax mass
    return torch.einsum("sr,srd->rd", share, partial), lse


_TRITON_TYPES = {
    torch.float64: tl.float64,
    torch.float32: tl.float32,
    torch.bfloat16: tl.bfloat16,
    torch.float16: tl.float16,
}


def _precision(dtype: torch.dtype) -> dict:
    """Accumulation type, the type tiles enter ``tl.dot`` in, and its input precision.

    Tiles keep the input type (bfloat16/float16 run on the tensor cores), except under the
    interpreter, whose reduced-precision ``tl.dot`` is wrong (triton 3.x): there they are
    widened to the accumulation type first.
    """
    acc = tl.float64 if dtype == torch.float64 else tl.float32
    dot = acc if _INTERPRETING else _TRITON_TYPES[dtype]
    if dtype == torch.float64 or (
        dtype == torch.float32 and torch.get_float32_matmul_precision() == "highest"
    ):
        precision = "ieee"
    else:
        precision = "tf32"  # float32 with TF32 allowed; ignored for bfloat16/float16 tiles
    return dict(ACC=acc, DOT=dot, PRECISION=precision)


def _plan(q: Tensor, memories: Tensor) -> dict:
    rows, width = q.shape
    slots = memories.shape[0]
    return dict(
        rows=rows,
        slots=slots,
        width=width,
        padded=max(16, triton.next_power_of_2(width)),
        item=q.element_size(),
        chunk=_slot_chunk(rows, slots, q.device),
        keys=(triton.next_power_of_2(rows), triton.next_power_of_2(slots)),
        constants=_precision(q.dtype),
        acc_dtype=torch.float64 if q.dtype == torch.float64 else torch.float32,
    )


class TritonMemoryAttention(torch.autograd.Function):
    """``softmax(q @ memories.T) @ memories`` for ``(r, d)`` rows, by Triton kernels."""

    @staticmethod
    def forward(ctx, q: Tensor, memories: Tensor) -> Tensor:
        q, memories = q.contiguous(), memories.contiguous()
        plan = _plan(q, memories)
        rows, slots, width, chunk = plan["rows"], plan["slots"], plan["width"], plan["chunk"]
        splits = triton.cdiv(slots, chunk)
        partial = torch.empty(splits, rows, width, dtype=plan["acc_dtype"], device=q.device)
        partial_lse = torch.empty(splits, rows, dtype=plan["acc_dtype"], device=q.device)
        _launch(
            "forward",
            lambda meta: (triton.cdiv(rows, meta["BLOCK_R"]), splits),
            (q, memories, partial, partial_lse, rows, slots, width, chunk, *plan["keys"]),
            plan["padded"],
            plan["item"],
            BLOCK_P=plan["padded"],
            **plan["constants"],
        )
        out, lse = _merge_splits(partial, partial_lse)
        ctx.save_for_backward(q, memories, out, lse)
        return out.to(q.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        q, memories, out, lse = ctx.saved_tensors
        plan = _plan(q, memories)
        rows, slots, width, chunk = plan["rows"], plan["slots"], plan["width"], plan["chunk"]
        grad_out = grad_out.to(q.dtype).contiguous()
        delta = (grad_out.to(out.dtype) * out).sum(dim=1)
        splits = triton.cdiv(slots, chunk)
        grad_q = torch.empty(splits, rows, width, dtype=out.dtype, device=q.device)
        grad_m = torch.empty(slots, width, dtype=out.dtype, device=q.device)
        tensors = (q, memories, grad_out, lse, delta)
        _launch(
            "dq",
            lambda meta: (triton.cdiv(rows, meta["BLOCK_R"]), splits),
            (*tensors, grad_q, rows, slots, width, chunk, *plan["keys"]),
            plan["padded"],
            plan["item"],
            BLOCK_P=plan["padded"],
            **plan["constants"],
        )
        _launch(
            "dm",
            lambda meta: (triton.cdiv(slots, meta["BLOCK_N"]),),
            (*tensors, grad_m, rows, slots, width, *plan["keys"]),
            plan["padded"],
            plan["item"],
            BLOCK_P=plan["padded"],
            **plan["constants"],
        )
        return grad_q.sum(dim=0).to(q.dtype), grad_m.to(memories.dtype)


def triton_rows(q: Tensor, memories: Tensor) -> Tensor:
    """Texture ``(r, d)`` for projected rows ``q`` ``(r, d)`` and memories ``(n, d)``."""
    return TritonMemoryAttention.apply(q, memories)
