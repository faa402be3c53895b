"""The plug-in passes textedit's conformance kit and behaves as documented."""

import torch

from textedit.testing import run_conformance
from textedit_plugin_example.spatial_prior import SpatialPriorLocalizer


def test_conformance(tmp_path):
    run_conformance(SpatialPriorLocalizer.from_config(SpatialPriorLocalizer.example_config()), workdir=tmp_path)


def test_prior_shifts_the_weights():
    localizer = SpatialPriorLocalizer({"channels": 2, "texture_dim": 3, "prior_size": 2, "prior_init": 30.0})
    coarse, original = torch.zeros(1, 2, 4, 4), torch.ones(1, 2, 4, 4)
    out = localizer(coarse, original, torch.zeros(1, 3))
    assert torch.allclose(out.weights, torch.ones_like(out.weights))
    assert torch.allclose(out.fused, coarse)
