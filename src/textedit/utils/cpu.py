"""What the CPU can do fast."""

from __future__ import annotations

import torch

__all__ = ["cpu_has_native_bf16"]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX tiles).

    On such CPUs a bf16 autocast runs convolutions and matrix products about twice as fast
    as float32; on others (AVX2 only) bf16 is emulated and about 100 times slower.
    """
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)
