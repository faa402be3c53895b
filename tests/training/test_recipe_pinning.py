"""MIM-Net's recipe computes what the trainer computed before the recipe left it.

``mimnet_recipe_pinned.json`` holds the metrics of three training steps of the tiny MIM-Net
under the paper's recipe and under the bundled model's options, recorded with the trainer
that held MIM-Net's two-stage step itself (commit b3bd3d6). The configs use the top-level
``losses`` and ``memory_updates`` of that time, so the migration into ``recipe`` is pinned
too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from textedit.training.trainer import Trainer

from textedit.testing import TINY_MIMNET as TINY_MODEL

PINNED = json.loads((Path(__file__).parent / "mimnet_recipe_pinned.json").read_text())

CONFIGS = {
    "paper": {},
    "paired": {
        "losses": {"true_edit": 1.0, "edit_region": 1.0, "edit_region_weighting": "part", "edit_mask": 1.0,
                   "random_memory": 0.0, "pseudo_ground_truth": 0.0, "generator_conformity": 0.0},
        "memory_updates": "every_step",
        "data": {"type": "synthetic", "family": "birds", "num_images": 12, "sample_split": "test", "reword": 0.5},
        "model": {**TINY_MODEL, "generator": {"channels": 16, "base_channels": 8, "output": "composite"}},
    },
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mimnet_recipe_losses_are_pinned(name, tiny):
    trainer = Trainer(tiny(**CONFIGS[name]), progress=False)
    assert trainer.config.recipe.type == "mimnet"
    for step, expected in enumerate(PINNED[name]):
        metrics = trainer.train_step()
        assert set(metrics) == set(expected), step
        for key, value in expected.items():
            assert metrics[key] == pytest.approx(value, rel=1e-3, abs=1e-6), (step, key)
