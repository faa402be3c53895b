"""Numerical kernels shared by components."""

from textedit.ops.memory_attention import (
    MemoryAttentionOutput,
    available_backends,
    memory_attention,
    resolve_backend,
)

__all__ = ["memory_attention", "MemoryAttentionOutput", "available_backends", "resolve_backend"]
