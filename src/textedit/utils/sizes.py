"""Byte counts for people."""

from __future__ import annotations

__all__ = ["format_bytes"]


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in the unit that shows it: KiB, MiB or GiB (``"1.5 MiB"``)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes / 2**10:.1f} KiB"
