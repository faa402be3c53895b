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

import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textedit.errors import CheckpointError, TextEditError
from textedit.utils.atomic import atomic_write

__all__ = [
    "rng_state", "set_rng_state", "save_checkpoint", "load_checkpoint", "latest_checkpoint",
    "checkpoint_to_resume", "refuse_a_second_run",
]

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
    # serialised in memory, then written as bytes: a full disk is then Python's OSError naming
    # the file (torch's own writer reports it as an opaque RuntimeError)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "step": step, **state}, buffer)
    with atomic_write(path) as handle:
        handle.write(buffer.getbuffer())
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
        # the CRC-32 of every record: torch.load reads flipped bytes in a tensor silently
        damaged = zipfile.ZipFile(path).testzip() if zipfile.is_zipfile(path) else None
        if damaged is not None:
            raise ValueError(f"its record {damaged} fails its CRC check")
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


#: what a run folder holds besides its checkpoints once it has trained or finished
_RUN_OUTPUTS = ("model", "metrics.jsonl")


def _run_outputs(out: Path) -> list[str]:
    return [
        name for name in _RUN_OUTPUTS
        if (out / name).is_dir() and any((out / name).iterdir()) or (out / name).is_file() and (out / name).stat().st_size
    ]


def checkpoint_to_resume(out: str | Path, resume_flag: str = "--resume") -> Path:
    """The newest checkpoint of the run in ``out``, or a :class:`TextEditError` saying why
    there is none to resume from."""
    out = Path(out)
    path = latest_checkpoint(out / "checkpoints")
    if path is not None:
        return path
    outputs = _run_outputs(out)
    if outputs:
        raise TextEditError(
            f"nothing to resume in {out}: it holds a run ({', '.join(outputs)}) whose checkpoints "
            f"under {out / 'checkpoints'} were deleted, so it cannot be continued"
            + ("; its trained model is in " + str(out / "model") if "model" in outputs else "")
        )
    raise TextEditError(
        f"nothing to resume in {out}: no checkpoint under {out / 'checkpoints'}; start a new run "
        f"without {resume_flag}"
    )


def refuse_a_second_run(out: str | Path, what: str, continue_with: str, out_flag: str) -> None:
    """Raise :class:`TextEditError` when ``out`` holds a run (checkpoints, an exported model
    or logged metrics) that a new run there would overwrite; the message says to continue
    it with ``continue_with`` (the flags that resume it) or to choose another ``out_flag``."""
    out = Path(out)
    if latest_checkpoint(out / "checkpoints") is not None:
        raise TextEditError(
            f"{out} already holds a {what}; continue it with {continue_with}, or choose another {out_flag}"
        )
    outputs = _run_outputs(out)
    if outputs:
        raise TextEditError(
            f"{out} holds a {what} ({', '.join(outputs)}) whose checkpoints were deleted: a new run "
            f"there would overwrite it; choose another {out_flag}, or move the folder away"
        )
