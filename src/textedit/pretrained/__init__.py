"""Trained models that ship inside the package, and :func:`load`, the one way to open a model.

Bundled models live in sub-folders of this package, each a folder written by
``save_pretrained`` (``model_index.json`` + one folder per slot), and are listed in
``bundled.json`` beside this file with their provenance (the config and command that
trained them, the wall time and the evaluation summary).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from textedit.errors import CheckpointError
from textedit.utils.atomic import interrupted_replacement

__all__ = ["load", "model_folder", "list_pretrained", "pretrained_path", "pretrained_info", "DEFAULT_MODEL"]

_HERE = Path(__file__).resolve().parent
#: The model ``textedit edit`` uses when none is named.
DEFAULT_MODEL = "mimnet64_birds"


def _catalogue() -> dict[str, dict[str, Any]]:
    path = _HERE / "bundled.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def list_pretrained() -> list[str]:
    """Names of the bundled models whose files are present."""
    return sorted(n for n in _catalogue() if (_HERE / n / "model_index.json").is_file())


def pretrained_info(name: str) -> dict[str, Any]:
    """Provenance of a bundled model (recipe, command, wall time, evaluation)."""
    info = _catalogue().get(name)
    if info is None:
        raise CheckpointError(f"no bundled model {name!r}; bundled models: {', '.join(list_pretrained()) or 'none'}")
    return info


def pretrained_path(name: str) -> Path:
    """Folder of a bundled model."""
    path = _HERE / name
    if name not in list_pretrained():
        raise CheckpointError(
            f"no bundled model {name!r}; bundled models: {', '.join(list_pretrained()) or 'none'}"
        )
    return path


def load(name_or_path: str | Path | None = None, map_location: Any = "cpu") -> Any:
    """Open a trained model: a bundled model's name or a folder written by ``save_pretrained``.

    Args:
        name_or_path: a bundled model (see :func:`list_pretrained`; default
            :data:`DEFAULT_MODEL`), or the path of a saved model (for example the
            ``model`` folder of a ``textedit train`` run).
        map_location: device to load the weights on.

    Raises:
        CheckpointError: neither a bundled model nor a saved model; the message lists
            the bundled models.
    """
    # lazy: serialization imports torch; listing the bundled models stays torch-free
    from textedit.serialization import load_composition

    path = model_folder(name_or_path)
    if not (path / "model_index.json").exists() and (path / "config.json").is_file():
        # lazy: the DAMSM composition imports torch; only a folder without an index gets here
        from textedit.models.damsm import DAMSM, is_legacy_folder

        if is_legacy_folder(path):  # DAMSM's old single-folder format
            return DAMSM.from_pretrained(path, map_location=map_location)
    return load_composition(path, map_location=map_location)


def model_folder(name_or_path: str | Path | None = None) -> Path:
    """The folder :func:`load` reads for ``name_or_path``: a saved model's, a training run's
    ``model/``, or a bundled model's.

    Raises:
        CheckpointError: neither (a checkpoint file, an unfinished run, a run exported
            before its newest checkpoint, no such name or path); the message says what to do.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    path = Path(name_or_path)
    if path.is_file() and path.parent.name == "checkpoints" and path.suffix == ".pt":
        raise CheckpointError(
            f"{path} is a training checkpoint (for --resume), not a saved model; pass the run "
            f"folder {path.parent.parent} (its model/ is the trained model)"
        )
    if path.is_dir() and (path / "checkpoints").is_dir() and not (path / "model").is_dir():
        raise CheckpointError(
            f"{path} is a training run that has not finished (no model/ yet); continue it with "
            f"`textedit train --resume {path}`, which exports the model at its end"
        )
    if path.exists():
        if (path / "model").is_dir() and not (path / "model_index.json").exists():
            _check_export_is_current(path)
            path = path / "model"  # a training run's folder
        return path
    if str(name_or_path) in _catalogue():
        return pretrained_path(str(name_or_path))
    if interrupted_replacement(path) is not None:
        return path  # loading it raises, naming where the previous model is
    raise CheckpointError(
        f"no model {str(name_or_path)!r}: not a bundled model ({', '.join(list_pretrained()) or 'none bundled'}) "
        f"and no such path; pass a folder written by save_pretrained or by `textedit train` "
        f"(its model/ sub-folder)"
    )


#: a training run's record of the step its ``model/`` was exported at
EXPORT_RECORD = "export.json"


def _check_export_is_current(run: Path) -> None:
    """Refuse a run's ``model/`` that the run has trained past since it was exported (a
    finished run resumed with more steps, then stopped)."""
    try:
        exported = int(json.loads((run / EXPORT_RECORD).read_text(encoding="utf-8"))["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # a run exported before the record existed, or not by the trainer
    steps = [int(m.group(1)) for p in (run / "checkpoints").glob("step_*.pt") if (m := re.fullmatch(r"step_(\d+)\.pt", p.name))]
    if steps and max(steps) > exported:
        raise CheckpointError(
            f"{run}/model was exported at step {exported}, and the run has trained on to step "
            f"{max(steps)} since without finishing: continue it with `textedit train --resume {run}`, "
            f"which exports the model at its end, or load {run / 'model'} to use the step-{exported} model"
        )
