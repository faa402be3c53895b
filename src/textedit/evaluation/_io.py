"""Saving and loading the evaluation networks that are not compositions (the attribute
classifier; DAMSM is a composition, saved with ``save_pretrained``), and reading the state
files of an evaluation's output folder.

A saved network is a folder like a saved component: ``config.json`` (``{"type": ...,
...fields, "_textedit": {format, textedit_version}}``) and ``model.safetensors``, written
atomically. Loading checks the type, then loads the weights strictly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from textedit._version import __version__
from textedit.errors import CheckpointError, InputError
from textedit.utils.atomic import atomic_directory

__all__ = [
    "save_network",
    "read_network_config",
    "load_network_weights",
    "read_records",
    "read_state",
]

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
FORMAT = 1


def save_network(
    module: torch.nn.Module, config: dict[str, Any], type_name: str, directory: str | Path
) -> Path:
    """Write ``config.json`` + ``model.safetensors`` into ``directory`` (replaced atomically)."""
    from safetensors.torch import save_model

    directory = Path(directory)
    data = {
        "type": type_name,
        **config,
        "_textedit": {"format": FORMAT, "textedit_version": __version__},
    }
    with atomic_directory(directory) as tmp:
        (tmp / CONFIG).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        save_model(module, str(tmp / WEIGHTS))
    return directory


def read_network_config(directory: str | Path, type_name: str) -> dict[str, Any]:
    """The config fields saved in ``directory`` for a network of ``type_name``.

    Raises:
        CheckpointError: no such folder or file, another type, or a newer format.
    """
    directory = Path(directory)
    path = directory / CONFIG
    if not path.is_file():
        raise CheckpointError(
            f"{directory} is not a saved {type_name}: it has no {CONFIG}; pass the folder "
            f"written by its training command (its model/ sub-folder)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc})") from None
    if data.get("type") != type_name:
        raise CheckpointError(f"{directory} holds a {data.get('type')!r}, not a {type_name!r}")
    meta = data.pop("_textedit", {})
    if int(meta.get("format", FORMAT)) > FORMAT:
        raise CheckpointError(
            f"{directory} was written by a newer textedit ({meta.get('textedit_version')}); "
            "upgrade textedit"
        )
    data.pop("type")
    return data


def load_network_weights(
    module: torch.nn.Module, directory: str | Path, map_location: Any = "cpu"
) -> None:
    """Load ``model.safetensors`` of ``directory`` into ``module`` strictly.

    Raises:
        CheckpointError: missing file, or tensors missing, unexpected or of another shape.
    """
    from safetensors.torch import load_file

    path = Path(directory) / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; the saved network in {directory} is incomplete")
    state = load_file(str(path), device=str(map_location))
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [k for k in set(own) & set(state) if own[k].shape != state[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}")
        if shapes:
            parts.append(f"other shapes {shapes[:5]}")
        raise CheckpointError(
            f"the weights in {path} do not fit its config.json: {'; '.join(parts)}"
        )
    module.load_state_dict(state, strict=True)


def read_records(path: Path) -> tuple[dict[int, dict[str, Any]], bool]:
    """The per-item records of a ``records.jsonl`` by item index (none when there is no
    file), and whether the file is torn: a line is not a record (cut by a kill, or damaged)
    or the last line has no end."""
    records: dict[int, dict[str, Any]] = {}
    if not path.is_file():
        return records, False
    text = path.read_text(encoding="utf-8")
    torn = bool(text) and not text.endswith("\n")
    for line in text.splitlines():
        try:
            record = json.loads(line)
            records[int(record["index"])] = record
        except (json.JSONDecodeError, TypeError, KeyError, ValueError):
            torn = True
    return records, torn


_RECOMPUTE = "pass --overwrite to compute what it held again, or choose another --out"


def read_state(path: Path, remedy: str = _RECOMPUTE) -> dict[str, Any]:
    """A JSON object an evaluation wrote into its output folder (``eval_config.json``,
    ``models/<label>/model.json``, ``results.json``).

    Raises:
        InputError: the file cannot be read as a JSON object (the message ends with ``remedy``).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        problem = None if isinstance(data, dict) else "not a JSON object"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = str(exc)
    if problem is not None:
        raise InputError(f"{path} is damaged ({problem}); {remedy}")
    return data
