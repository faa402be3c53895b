"""Memory attention: word features read a bank of memories (MIM-Net, spec section 2).

Shape legend: ``b`` batch, ``t`` words, ``n`` memory slots, ``D`` word width, ``d`` memory
width, ``r`` rows: the words of a batch that attend, flattened.

For each valid word ``j``: ``a_{j,i} = softmax_i(e_j · W_k m_i)`` and
``t_j = Σ_i a_{j,i} m_i``. Padded words get a zero texture and zero weights.

Three backends compute the same function (see ``docs/memory-attention.md``):

* ``"reference"``: keys ``M W_kᵀ``, an einsum, a softmax and an einsum; materialises the
  ``(b, t, n)`` weights.
* ``"fused"``: plain torch on any device; projects the words once (``q = E W_k``,
  ``(b, t, d)``) instead of the ``n`` memories, and runs a blocked online softmax over the
  memories in forward and backward, so no ``(b, t, n)`` tensor ever exists.
* ``"triton"``: the fused algorithm as Triton kernels, for CUDA tensors (or CPU tensors
  under ``TRITON_INTERPRET=1``).

``"auto"`` (the default) picks, on CUDA, triton from a measured size on (per device, else
where the reference's weights would take 64 MiB), else reference; on other devices fused
where a multiply-add count says it wins, else reference (see :func:`resolve_backend`).
The environment variable ``TEXTEDIT_MEMORY_ATTENTION_BACKEND`` replaces what ``"auto"``
would pick.
"""

from __future__ import annotations

import importlib.util
import os
from typing import NamedTuple

import torch
from torch import Tensor

from textedit.errors import InputError, MissingDependencyError
from textedit.ops._fused_memory_attention import fused_rows

__all__ = [
    "memory_attention",
    "MemoryAttentionOutput",
    "available_backends",
    "resolve_backend",
    "triton_crossover",
    "BACKEND_ENV_VAR",
]

#: Environment variable that forces the backend ``"auto"`` resolves to.
BACKEND_ENV_VAR = "TEXTEDIT_MEMORY_ATTENTION_BACKEND"
_BACKENDS = ("reference", "fused", "triton")
# "auto" compares multiply-add counts (docs/memory-attention.md derives them; they match
# the measured CPU crossovers): the fused path projects the r words (r·D·d) where the
# reference projects the n memories (n·D·d), but its backward pass recomputes the scores.
# Below _FUSED_MIN_SLOTS its per-block bookkeeping outweighs any saving; from
# _FUSED_MIN_WEIGHTS weights on, the reference's (b, t, n) tensors fall out of cache and
# cost more than the count says (and 64 MiB each in float32), so fused wins regardless.
_FUSED_MIN_SLOTS = 256
_FUSED_MIN_WEIGHTS = 1 << 24
# On CUDA "auto" picks triton from this many (b, t, n) weights on, per device (the name
# torch reports, by prefix): crossovers measured with `python benchmarks/gpu.py`, which
# prints them (forward, training). A device without a row uses _TRITON_MIN_WEIGHTS: where
# the reference's (b, t, n) float32 tensors reach 64 MiB each, memory rather than speed
# decides.
_TRITON_CROSSOVERS: dict[str, tuple[int, int]] = {}
_TRITON_MIN_WEIGHTS = 1 << 24


class MemoryAttentionOutput(NamedTuple):
    """Attributes:
    texture: ``(b, t, d)`` texture per word, zero at padding.
    attention: ``(b, t, n)`` weights (zero rows at padding), or None when not requested.
    """

    texture: Tensor
    attention: Tensor | None


def _triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def available_backends() -> list[str]:
    """Backends usable in this process.

    ``"reference"`` and ``"fused"`` always; ``"triton"`` when triton is installed and either
    CUDA is available or the Triton interpreter is on (``TRITON_INTERPRET=1``).
    """
    names = ["reference", "fused"]
    if _triton_installed() and (_interpreting() or torch.cuda.is_available()):
        names.append("triton")
    return names


def _fused_is_cheaper(rows: int, slots: int, word_dim: int, slot_dim: int, backward: bool) -> bool:
    """Whether the fused path beats the reference on the CPU, by the cost model above."""
    r, n, big_d, d = rows, slots, word_dim, slot_dim
    if n < _FUSED_MIN_SLOTS:
        return False
    if r * n >= _FUSED_MIN_WEIGHTS:
        return True
    reference = n * big_d * d + r * n * big_d + r * n * d  # keys, scores, weighted sum
    fused = r * big_d * d + 2 * r * n * d  # queries, scores, weighted sum
    if backward:
        # Reference: twice its forward more (dA, dM, dE, dK, and dM, dW_k through the keys).
        # Fused: recomputed scores, dA, dq, the key and value terms of dM; dE, dW_k via q.
        reference, fused = 3 * reference, 3 * r * big_d * d + 7 * r * n * d
    return fused < reference


def resolve_backend(
    backend: str,
    words: Tensor,
    memories: Tensor,
    key_weight: Tensor | None = None,
    rows: int | None = None,
) -> str:
    """The backend that runs for ``backend`` on these inputs (``"auto"`` resolved).

    ``"auto"``: the backend named by ``TEXTEDIT_MEMORY_ATTENTION_BACKEND`` if set; else,
    for CUDA tensors, triton when it is installed and the ``(b, t, n)`` weights reach the
    device's :func:`triton_crossover`, reference otherwise; else fused when it needs fewer
    multiply-adds than the reference and ``n >= 256``, or when the ``(b, t, n)`` weights
    would have ``2**24`` elements or more; else reference. Both rules count the backward
    pass when autograd will need it (grad mode on and an input requiring grad).

    Args:
        backend: a name from :func:`available_backends`, or ``"auto"``.
        words: ``(b, t, D)`` word features.
        memories: ``(n, d)`` memories.
        key_weight: ``(D, d)`` key projection (only whether it requires grad matters).
        rows: number of words that attend (default ``b·t``).

    Raises:
        InputError: unknown backend, or one that cannot run on these tensors.
    """
    source = "backend"
    if backend == "auto":
        forced = os.environ.get(BACKEND_ENV_VAR, "").strip()
        if forced and forced != "auto":
            backend, source = forced, f"environment variable {BACKEND_ENV_VAR}"
        else:
            tensors = (words, memories) if key_weight is None else (words, memories, key_weight)
            backward = torch.is_grad_enabled() and any(x.requires_grad for x in tensors)
            rows = words.shape[0] * words.shape[1] if rows is None else rows
            n, d = memories.shape
            if words.is_cuda:
                wins = _triton_installed() and rows * n >= triton_crossover(words.device)[backward]
                return "triton" if wins else "reference"
            cheaper = _fused_is_cheaper(rows, n, words.shape[2], d, backward)
            return "fused" if cheaper else "reference"
    if backend not in _BACKENDS:
        raise InputError(
            f"unknown memory attention backend {backend!r} (from {source}); available in "
            f"this process: {', '.join(available_backends())}, or 'auto' to choose by device "
            f"and size"
        )
    if backend == "triton":
        _check_triton_usable(words)
    return backend


def triton_crossover(device: torch.device | str) -> tuple[int, int]:
    """``(forward, training)``: the number of ``(b, t, n)`` weights from which ``"auto"``
    picks the triton backend on this CUDA device (measured per device; ``2**24`` for a
    device not measured yet)."""
    name = torch.cuda.get_device_name(device)
    for prefix, crossover in _TRITON_CROSSOVERS.items():
        if name.startswith(prefix):
            return crossover
    return (_TRITON_MIN_WEIGHTS, _TRITON_MIN_WEIGHTS)


def _check_triton_usable(words: Tensor) -> None:
    if not _triton_installed():
        raise MissingDependencyError(
            "the 'triton' memory attention backend needs triton: pip install triton "
            "(or use backend='fused', which runs anywhere)"
        )
    if not words.is_cuda and not _interpreting():
        raise InputError(
            f"the 'triton' memory attention backend runs on CUDA tensors; got tensors on "
            f"{words.device}. Move them to a GPU, use backend='fused' or 'reference', or set "
            f"TRITON_INTERPRET=1 before triton is imported to run the kernels in the Triton "
            f"interpreter (slow, for testing)"
        )


def _check_inputs(
    words: Tensor, word_mask: Tensor | None, memories: Tensor, key_weight: Tensor
) -> None:
    """Raise :class:`InputError` naming the shapes when the inputs do not fit together."""
    given = (
        f"got words {tuple(words.shape)}, memories {tuple(memories.shape)}, key_weight "
        f"{tuple(key_weight.shape)}"
        + ("" if word_mask is None else f", word_mask {tuple(word_mask.shape)}")
    )
    expected = "expected words (b, t, D), word_mask (b, t), memories (n, d), key_weight (D, d)"
    if words.dim() != 3 or memories.dim() != 2 or key_weight.dim() != 2:
        raise InputError(f"memory attention: {expected}; {given}")
    if key_weight.shape[0] != words.shape[2]:
        raise InputError(
            f"memory attention: key_weight (D, d) must have D = words.shape[2] = "
            f"{words.shape[2]} rows; {given}. key_weight is an nn.Linear(d, D).weight: "
            f"it maps a memory to the word width"
        )
    if key_weight.shape[1] != memories.shape[1]:
        raise InputError(
            f"memory attention: key_weight (D, d) must have d = memories.shape[1] = "
            f"{memories.shape[1]} columns; {given}"
        )
    if memories.shape[0] == 0:
        raise InputError(f"memory attention needs at least one memory slot; {given}")
    if word_mask is not None:
        if word_mask.shape != words.shape[:2]:
            raise InputError(
                f"memory attention: word_mask must be (b, t) = {tuple(words.shape[:2])}; {given}"
            )
        if word_mask.dtype != torch.bool:
            raise InputError(
                f"memory attention: word_mask must be bool (True on real words), got "
                f"{word_mask.dtype}; use mask.bool() or mask > 0"
            )
    tensors = {"words": words, "memories": memories, "key_weight": key_weight}
    if not words.is_floating_point() or any(x.dtype != words.dtype for x in tensors.values()):
        dtypes = ", ".join(f"{k} {v.dtype}" for k, v in tensors.items())
        raise InputError(
            f"memory attention needs words, memories and key_weight of one floating dtype; "
            f"got {dtypes}"
        )
    devices = {x.device for x in tensors.values()}
    if word_mask is not None:
        devices.add(word_mask.device)
    if len(devices) > 1:
        raise InputError(
            f"memory attention inputs must be on one device; got {sorted(map(str, devices))}"
        )


def _reference(words: Tensor, mask: Tensor, memories: Tensor, key_weight: Tensor):
    keys = memories @ key_weight.t()
    scores = torch.einsum("btk,nk->btn", words, keys)
    attention = torch.softmax(scores, dim=-1) * mask[..., None].to(scores.dtype)
    texture = torch.einsum("btn,nd->btd", attention, memories)
    return texture, attention


def _weights(q: Tensor, mask: Tensor, memories: Tensor) -> Tensor:
    """``(b, t, n)`` weights from projected words ``q`` ``(b, t, d)``, zero at padding."""
    return torch.softmax(q @ memories.t(), dim=-1) * mask[..., None].to(q.dtype)


def _fused(words, mask, memories, key_weight, block_size, return_attention):
    b, t, width = words.shape
    flat = words.reshape(b * t, width)
    if bool(mask.all()):
        q = flat @ key_weight
        texture = fused_rows(q, memories, block_size)
    else:
        # Only the valid words are projected and attend: padding costs nothing.
        index = mask.reshape(-1).nonzero().squeeze(1)
        valid_q = flat.index_select(0, index) @ key_weight
        rows = fused_rows(valid_q, memories, block_size)
        texture = rows.new_zeros(b * t, memories.shape[1]).index_copy(0, index, rows)
        if return_attention:
            q = valid_q.new_zeros(b * t, valid_q.shape[1]).index_copy(0, index, valid_q)
    attention = _weights(q.view(b, t, -1), mask, memories) if return_attention else None
    return texture.view(b, t, -1), attention


def _triton(words, mask, memories, key_weight, return_attention):
    from textedit.ops._triton_memory_attention import triton_rows  # lazy: imports triton (optional)

    b, t, _ = words.shape
    # Padded words were zeroed, so their rows go through the kernel as q = 0 and are
    # zeroed after: no gather, hence no host sync.
    q = words @ key_weight
    rows = triton_rows(q.reshape(b * t, -1), memories).view(b, t, -1)
    texture = torch.where(mask[..., None], rows, 0.0)
    attention = _weights(q, mask, memories) if return_attention else None
    return texture, attention


def memory_attention(
    words: Tensor,
    word_mask: Tensor | None,
    memories: Tensor,
    key_weight: Tensor,
    *,
    backend: str = "auto",
    return_attention: bool = False,
    block_size: int | None = None,
) -> MemoryAttentionOutput:
    """Read ``(n, d)`` memories with ``(b, t, D)`` words; keys are ``memories @ key_weight.T``.

    Args:
        words: ``(b, t, D)`` word features.
        word_mask: ``(b, t)`` bool, True on real words; None means all words are real.
        memories: ``(n, d)`` memory vectors (the values).
        key_weight: ``(D, d)`` key projection ``W_k`` (an ``nn.Linear(d, D).weight``).
        backend: ``"auto"``, or one of :func:`available_backends`: ``"reference"``,
            ``"fused"``, ``"triton"``. Under ``"auto"`` the environment variable
            ``TEXTEDIT_MEMORY_ATTENTION_BACKEND`` forces a backend.
        return_attention: also return the ``(b, t, n)`` weights; they are materialised
            (and differentiable) whatever the backend, so this costs ``b·t·n`` memory.
        block_size: memory slots per block of the fused backend; None picks about
            ``2**18 / r`` (in [64, 1024]). Ignored by the other backends.

    Returns:
        :class:`MemoryAttentionOutput` with the ``(b, t, d)`` texture (zero at padding) and
        the ``(b, t, n)`` weights or None.

    Raises:
        InputError: shapes, dtypes or devices that do not fit together, an unknown backend,
            or the triton backend on CPU tensors without the Triton interpreter.
        MissingDependencyError: the triton backend without triton installed.
    """
    _check_inputs(words, word_mask, memories, key_weight)
    if block_size is not None and block_size < 1:
        raise InputError(f"memory attention: block_size must be a positive int, got {block_size}")
    if word_mask is None:
        word_mask = torch.ones(words.shape[:2], dtype=torch.bool, device=words.device)
    else:
        # Padded word features never reach the arithmetic, so no value there (even inf) leaks.
        words = words.masked_fill(~word_mask[..., None], 0.0)
    chosen = resolve_backend(backend, words, memories, key_weight)
    if words.shape[0] * words.shape[1] == 0:
        chosen = "reference"
    if chosen == "fused":
        texture, attention = _fused(
            words, word_mask, memories, key_weight, block_size, return_attention
        )
    elif chosen == "triton":
        texture, attention = _triton(words, word_mask, memories, key_weight, return_attention)
    else:
        texture, attention = _reference(words, word_mask, memories, key_weight)
    return MemoryAttentionOutput(texture, attention if return_attention else None)
