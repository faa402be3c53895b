"""Digests that identify what produced a result: a file, a folder of files, a module's
weights (the first hex digits of a SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

__all__ = ["file_digest", "folder_digest", "source_digest", "weights_digest"]


def file_digest(path: str | Path, length: int = 12) -> str:
    """The first ``length`` hex digits of the SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:length]


def folder_digest(directory: str | Path, length: int = 12, pattern: str = "*") -> str:
    """SHA-256 over the names and contents of every file below ``directory`` whose name
    matches ``pattern`` (sorted)."""
    directory = Path(directory)
    h = hashlib.sha256()
    for path in sorted(p for p in directory.rglob(pattern) if p.is_file()):
        h.update(str(path.relative_to(directory)).encode())
        h.update(file_digest(path, 64).encode())
    return h.hexdigest()[:length]


def weights_digest(module: torch.nn.Module, length: int = 12) -> str:
    """SHA-256 over ``module``'s state dict (names, dtypes, shapes and values): equal
    digests, equal weights, whatever files they were read from."""
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:length]


def source_digest(length: int = 12) -> str:
    """SHA-256 over textedit's own Python sources: what tells results computed by one
    version of the code (the models, the renderer, the metrics) from another's."""
    return folder_digest(Path(__file__).resolve().parents[1], length, pattern="*.py")
