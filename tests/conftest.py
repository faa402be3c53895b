"""Shared test configuration: hypothesis profiles, thread limits and markers."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seed_torch():
    import torch

    torch.manual_seed(0)
    yield
