"""Shared test configuration: hypothesis profiles, thread limits and markers."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# The suite starts some forty fresh interpreters (CLI runs, examples, plug-ins in a fresh
# site). With PYTHONDONTWRITEBYTECODE set, as on the machines this project is developed on
# (CI runs on one like them), each of them compiled textedit from source again and every
# xdist worker re-rewrote the test modules' asserts: about a tenth of the suite's time
# (174 -> 158 s on a 2-core EPYC). Bytecode caches are written under __pycache__
# (git-ignored) for this session and the interpreters it starts.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Property tests run under a fixed profile: no deadline (the CPU is shared and slow), a
# bounded number of examples. HYPOTHESIS_PROFILE=dev runs more examples locally.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=200)
# the Triton kernels under TRITON_INTERPRET (numpy, ~100x slower), in a subprocess of the suite
settings.register_profile("interpreter", parent=settings.get_profile("ci"), max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seed_torch():
    import torch

    torch.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _cpu_unless_marked_gpu(request, monkeypatch):
    """Tests pick their device on purpose: a test not marked ``gpu`` runs on the CPU even on
    a CUDA machine (``device=auto`` resolves to the CPU there), so the suite gives the same
    answers with and without a GPU; ``gpu`` tests get the real CUDA."""
    if request.node.get_closest_marker("gpu") is None:
        import torch

        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
