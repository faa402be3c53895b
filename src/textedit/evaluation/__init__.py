"""Evaluation: the paper's metrics (IS, FID, Sim, Diff, MP) and exact metrics on generated data.

One command runs it all (``textedit eval``); the pieces are importable:

* :mod:`~textedit.evaluation.metrics`: the metrics as pure functions and their catalogue;
* :mod:`~textedit.evaluation.attributes`: reading a part's colour, size and pattern;
* :mod:`~textedit.evaluation.inception`: the FID Inception-v3 from a local file, FID/KID;
* :mod:`~textedit.evaluation.classifier`: the attribute classifier (CS, CFD, patterns);
* :mod:`~textedit.evaluation.damsm`: the DAMSM behind Sim (the ``damsm`` composition of
  :mod:`textedit.models.damsm` and its losses in :mod:`textedit.losses`, re-exported);
* :mod:`~textedit.evaluation.evaluate`: the resumable runner; :mod:`.aggregate`, :mod:`.report`.

Names are loaded on first access, so ``import textedit.evaluation`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "evaluate": "textedit.evaluation.evaluate",
    "Evaluation": "textedit.evaluation.evaluate",
    "EvalSettings": "textedit.evaluation.evaluate",
    "aggregate": "textedit.evaluation.aggregate",
    "write_reports": "textedit.evaluation.report",
    "format_table": "textedit.evaluation.report",
    "resolve_model": "textedit.evaluation.models",
    "model_column": "textedit.evaluation.models",
    "open_eval_data": "textedit.evaluation.sources",
    "METRICS": "textedit.evaluation.metrics",
    "AttributeClassifier": "textedit.evaluation.classifier",
    "train_classifier": "textedit.evaluation.classifier_train",
    "DAMSM": "textedit.evaluation.damsm",
    "train_damsm": "textedit.evaluation.damsm_train",
    "load_inception": "textedit.evaluation.inception",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'textedit.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
