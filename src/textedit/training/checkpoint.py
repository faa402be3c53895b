"""Resumable training checkpoints, written atomically.

A checkpoint holds everything that decides what the next step does: the model (and its
EMA), both optimisers, the step, every random number generator (Python, NumPy, torch CPU
and CUDA), the run's config and the model's config as built (which a resumed run
rebuilds). The data order is a pure function of the seed and the step (see
:mod:`textedit.training.data`), so it needs no state of its own. Files are written to a
temporary name and renamed into place, so every ``step_*.pt`` file is complete and a run
killed at any moment resumes from the newest one.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textedit.errors import CheckpointError
from textedit.utils.atomic import atomic_save

__all__ = ["rng_state", "set_rng_state", "save_checkpoint", "load_checkpoint", "latest_checkpoint"]

_NAME = re.compile(r"step_(\d+)\.pt$")
FORMAT = 1


def rng_state() -> dict[str, Any]:
    """The state of every random number generator training draws from."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    # plain types and tensors only, so that checkpoints load with weights_only=True
    state = {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: str | Path, step: int, state: dict[str, Any], keep: int | None = None) -> Path:
    """Write ``step_<step>.pt`` atomically, then prune old ones.

    Args:
        directory: the run's checkpoint folder.
        step: the number of completed steps.
        state: what to save (tensors, state dicts, plain Python).
        keep: keep this many most recent checkpoints (None keeps all).
    """
    directory = Path(directory)
    path = directory / f"step_{step:08d}.pt"
    atomic_save(path, lambda tmp: torch.save({"format": FORMAT, "step": step, **state}, tmp))
    if keep is not None:
        for old in sorted(directory.glob("step_*.pt"))[:-keep]:
            if old != path:
                old.unlink(missing_ok=True)
    # a run killed while writing leaves its temporary file; one process writes checkpoints,
    # so any other temporary file is such a leftover (a full-size one, late in a save)
    for stale in directory.glob(".step_*.tmp.pt"):
        stale.unlink(missing_ok=True)
    return path


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The newest complete checkpoint in ``directory``, or None."""
    found = sorted(p for p in Path(directory).glob("step_*.pt") if _NAME.search(p.name))
    return found[-1] if found else None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (on the CPU)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        earlier = sorted(p for p in path.parent.glob("step_*.pt") if _NAME.search(p.name) and p.name < path.name)
        hint = f"; the earlier {earlier[-1].name} is beside it: delete {path.name} to resume from that" if earlier else ""
        raise CheckpointError(
            f"cannot read the training checkpoint {path} ({str(exc) or type(exc).__name__}): it is damaged{hint}"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a textedit training checkpoint of format {FORMAT}")
    return state
