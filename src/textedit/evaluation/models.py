"""The models an evaluation compares: trained models and the two references.

Shape legend: ``b`` batch, ``H`` image side, ``h``/``w`` the localization map size.

``textedit eval --model`` takes, once per column, ``[LABEL=]SOURCE`` where SOURCE is

* ``identity``: the output is the input (what "doing nothing" scores);
* ``true-edit``: the output is the renderer's true edit (what a perfect edit scores; only
  on data with ground truth);
* a bundled model's name (``mimnet64_birds``) or a folder written by ``save_pretrained`` or
  ``textedit train``, opened with :func:`textedit.load`: an editing model edits each item's
  image; a text-to-image model (a :class:`~textedit.interfaces.GeneratingModel`) draws the
  item's description from seed ``index`` (:attr:`EvalModel.draws`), and only the metrics that
  do not compare the output with the input are measured for it.

All go through the same runner, so the references are measured exactly like a model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.errors import InputError
from textedit.interfaces.model import EditingModel, GeneratingModel
from textedit.pretrained import load as load_model
from textedit.pretrained import pretrained_path
from textedit.utils.digest import folder_digest, weights_digest

__all__ = [
    "EvalModel",
    "IdentityModel",
    "TrueEditModel",
    "LoadedModel",
    "GeneratedModel",
    "resolve_model",
    "model_column",
    "split_model_spec",
    "REFERENCES",
]

REFERENCES = ("identity", "true-edit")


@dataclass
class EvalModel:
    """One column of an evaluation.

    Attributes:
        label: the column name (a folder name in the output, so letters, digits, ``-_.``).
        source: what ``--model`` said.
        image_size: the size the model works at (None: any size, the references).
        fingerprint: what identifies its weights (a digest), so a resumed run notices a change.
        draws: True for a text-to-image model: its output does not start from the input, so
            the metrics that compare the two are not measured, and the attributes are read by
            the classifier alone.
    """

    label: str
    source: str
    image_size: int | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    draws: ClassVar[bool] = False

    def edit(
        self, image: Tensor, texts: list[str], truth: Tensor | None, seeds: list[int] | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """``(b, 3, H, H)`` outputs in ``[-1, 1]`` and a ``(b, 1, h, w)`` map in ``[0, 1]`` or None.

        Args:
            image: ``(b, 3, H, H)`` inputs in ``[-1, 1]``.
            texts: the ``b`` descriptions.
            truth: ``(b, 3, H, H)`` the true edits when known (only the true-edit reference reads it).
            seeds: one seed per item for a model's random draws (only a text-to-image model
                reads them).
        """
        raise NotImplementedError


class IdentityModel(EvalModel):
    """Output = input."""

    def edit(self, image, texts, truth, seeds=None):
        return image, None


class TrueEditModel(EvalModel):
    """Output = the renderer's true edit."""

    def edit(self, image, texts, truth, seeds=None):
        if truth is None:
            raise self.no_truth()
        return truth, None

    def no_truth(self) -> InputError:
        return InputError(
            f"model {self.label!r} (true-edit) needs data with true edits: --data "
            "synthetic:<family> or a folder written by `textedit data generate`; real data sets "
            "have none"
        )


class LoadedModel(EvalModel):
    """A textedit model (a :class:`~textedit.interfaces.EditingModel`)."""

    def __init__(self, label: str, source: str, model: Any, fingerprint: dict[str, Any]):
        super().__init__(label, source, int(model.image_size), fingerprint)
        self.model = model
        #: the descriptions (the edits' and, for the identity edit, the inputs' own captions)
        #: that drew each kind of edit warning (unknown words, too long) in this run, by the
        #: warning's text (it quotes the description): each counted once
        self.warnings: dict[str, set[str]] = {}

    @torch.no_grad()
    def edit(self, image, texts, truth, seeds=None):
        out = self._counting_warnings(lambda: self.model.edit(image, texts))
        fine = out.fine.float().cpu()
        loc = out.localization.float().cpu() if out.localization is not None else None
        return fine, loc

    def _counting_warnings(self, run: Any) -> Any:
        """``run()``, with the model's per-description notes counted, not printed for every item."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = run()
        for w in caught:
            if type(w.message).__name__ == "EditWarning" or w.category.__name__ == "EditWarning":
                kind = (
                    "more words than the model reads"
                    if "longer than" in str(w.message)
                    else "words the model does not know"
                )
                self.warnings.setdefault(kind, set()).add(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return out


class GeneratedModel(LoadedModel):
    """A text-to-image model (a :class:`~textedit.interfaces.GeneratingModel`): item ``i``'s
    output is its description drawn from seed ``i``; the input image is not read."""

    draws = True

    @torch.no_grad()
    def edit(self, image, texts, truth, seeds=None):
        out = self._counting_warnings(lambda: self.model.generate(texts, seed=seeds if seeds is not None else 0))
        return out.fine.float().cpu(), None


def _label_ok(label: str) -> bool:
    return (
        bool(label) and all(c.isalnum() or c in "-_." for c in label) and label not in (".", "..")
    )


def split_model_spec(spec: str) -> tuple[str, str]:
    """``(label, source)`` of one ``--model`` value: ``LABEL=SOURCE``, or a source whose
    label is its folder's name (a training run's name for its ``model/`` folder)."""
    label, sep, source = spec.partition("=")
    if not sep:
        label, source = "", spec
    source = source.strip()
    if not label:
        label = Path(source.rstrip("/")).name if source not in REFERENCES else source
        if label == "model" and Path(source).is_dir():
            label = Path(source).resolve().parent.name  # a training run's model/ folder
    return label, source


def model_column(model: Any, label: str | None = None) -> EvalModel:
    """The :class:`EvalModel` of a model in memory (an
    :class:`~textedit.interfaces.EditingModel` or
    :class:`~textedit.interfaces.GeneratingModel`), labelled ``label`` (default: its class
    name, lower-cased) and identified by a digest of its weights."""
    if not isinstance(model, (EditingModel, GeneratingModel)):
        raise InputError(
            f"a model column is a textedit EditingModel or GeneratingModel, a bundled name or a saved "
            f"model's folder, got {type(model).__name__}"
        )
    label = label or type(model).__name__.lower()
    if not _label_ok(label):
        raise InputError(f"model label {label!r} may hold letters, digits, '-', '_' and '.' only")
    kind = GeneratedModel if isinstance(model, GeneratingModel) else LoadedModel
    source = f"{type(model).__name__} in memory"
    return kind(label, source, model, {"weights": weights_digest(model)})


def resolve_model(spec: str, map_location: Any = "cpu") -> EvalModel:
    """The :class:`EvalModel` of one ``--model`` value (module doc).

    Raises:
        InputError: a malformed label.
        CheckpointError: no such bundled model or folder.
    """
    if not isinstance(spec, str):
        raise InputError(
            f"a --model value is a string (a bundled name, a folder, identity, true-edit, or "
            f"LABEL=SOURCE), got {type(spec).__name__}; pass a model in memory as a column "
            f"with evaluation.model_column(model, label) or in evaluate(models=[...])"
        )
    label, source = split_model_spec(spec)
    if not _label_ok(label):
        raise InputError(
            f"model label {label!r} may hold letters, digits, '-', '_' and '.' only; name the "
            "column with LABEL=SOURCE"
        )
    if source == "identity":
        return IdentityModel(label, source, fingerprint={"reference": "identity"})
    if source == "true-edit":
        return TrueEditModel(label, source, fingerprint={"reference": "true-edit"})
    model = load_model(source, map_location=map_location)
    path = Path(source)
    if not path.exists():
        path = pretrained_path(source)
    elif (path / "model").is_dir() and not (path / "model_index.json").exists():
        path = path / "model"
    if not isinstance(model, (EditingModel, GeneratingModel)):
        raise InputError(
            f"{source} loads as a {type(model).__name__}, which neither edits nor draws images "
            "(not a textedit.interfaces.EditingModel or GeneratingModel); evaluate an editing or "
            "a text-to-image model"
        )
    kind = GeneratedModel if isinstance(model, GeneratingModel) else LoadedModel
    return kind(label, source, model, {"path": str(path.resolve()), "digest": folder_digest(path)})
