"""Opening the model to edit (or draw) with: a bundled name or a saved folder, on a device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textedit.errors import CheckpointError, InputError
from textedit.interfaces.model import EditingModel, GeneratingModel
from textedit import pretrained
from textedit.utils.device import resolve_device

__all__ = ["load_for_editing", "load_for_generation", "resolve_device"]


def load_for_editing(name_or_path: str | Path | None = None, device: str = "auto") -> Any:
    """The model ``textedit edit`` and ``textedit serve`` use, in eval mode.

    Args:
        name_or_path: a bundled model (default :data:`textedit.pretrained.DEFAULT_MODEL`)
            or a folder written by ``save_pretrained`` / ``textedit train``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...

    Raises:
        CheckpointError: no such model, a damaged one, or one saved by a newer textedit.
    """
    name = str(name_or_path) if name_or_path is not None else pretrained.DEFAULT_MODEL
    if name == pretrained.DEFAULT_MODEL and name not in pretrained.list_pretrained() and not Path(name).exists():
        raise CheckpointError(
            f"the default model {pretrained.DEFAULT_MODEL!r} is not bundled with this copy of textedit "
            f"(bundled: {', '.join(pretrained.list_pretrained()) or 'none'}); pass --model with a saved "
            f"model folder, e.g. the run folder of `textedit train --config mimnet64_birds`"
        )
    model = pretrained.load(name, map_location=resolve_device(device))
    if not isinstance(model, EditingModel):
        hint = "; it draws images from text: use `textedit generate`" if isinstance(model, GeneratingModel) else ""
        raise InputError(
            f"{name} holds {_a(type(model).__name__)}, which does not edit images (not a "
            f"textedit.interfaces.EditingModel){hint}; pass an editing model (MIM-Net, TAGAN, "
            f"SISGAN, ManiGAN, ...)"
        )
    return model.eval()


def load_for_generation(name_or_path: str | Path, device: str = "auto") -> Any:
    """The model ``textedit generate`` uses, in eval mode.

    Args:
        name_or_path: a bundled model or a folder written by ``save_pretrained`` /
            ``textedit train`` holding a text-to-image model.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...

    Raises:
        CheckpointError: no such model, a damaged one, or one saved by a newer textedit.
        InputError: a model that does not draw from text (an editing model).
    """
    model = pretrained.load(str(name_or_path), map_location=resolve_device(device))
    if not isinstance(model, GeneratingModel):
        hint = "; it edits images: use `textedit edit`" if isinstance(model, EditingModel) else ""
        raise InputError(
            f"{name_or_path} holds {_a(type(model).__name__)}, which does not draw images from text "
            f"(not a textedit.interfaces.GeneratingModel){hint}; pass a text-to-image model "
            f"(AttnGAN, StackGAN++, e.g. the run folder of `textedit train --config attngan64_birds`)"
        )
    return model.eval()


def _a(noun: str) -> str:
    """``noun`` with its indefinite article (a TAGAN, an AttnGAN)."""
    return f"{'an' if noun[:1].upper() in 'AEIOU' else 'a'} {noun}"
