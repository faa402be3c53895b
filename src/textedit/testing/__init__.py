"""Public test utilities for textedit and its plug-ins.

* :func:`run_conformance` — the checks every component of a kind must pass.
* :func:`registered_components` — every registered component, to parametrise tests over.
* :func:`run_model_conformance` and :func:`registered_models` — the same for editing
  models (:mod:`textedit.testing.models`: edit contract, determinism, one training
  iteration through the model's recipe, save/load); :data:`TINY_MIMNET`, a MIM-Net spec
  small enough for tests that train.
* :mod:`textedit.testing.strategies` — hypothesis strategies for images, token batches,
  masks and kernel inputs (needs the ``test`` extra).
"""

from textedit.testing.conformance import (
    CHECKS,
    ConformanceError,
    registered_components,
    run_conformance,
    tensors_of,
)
from textedit.testing.models import MODEL_CHECKS, TINY_MIMNET, registered_models, run_model_conformance

__all__ = [
    "CHECKS",
    "MODEL_CHECKS",
    "TINY_MIMNET",
    "ConformanceError",
    "registered_components",
    "registered_models",
    "run_conformance",
    "run_model_conformance",
    "tensors_of",
]
