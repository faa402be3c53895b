"""Public test utilities for textedit and its plug-ins.

* :func:`run_conformance` — the checks every component of a kind must pass.
* :func:`registered_components` — every registered component, to parametrise tests over.
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

__all__ = ["CHECKS", "ConformanceError", "registered_components", "run_conformance", "tensors_of"]
