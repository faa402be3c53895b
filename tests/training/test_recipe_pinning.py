"""MIM-Net's recipe computes what the trainer computed before the recipe left it.

``mimnet_recipe_pinned.json`` holds the metrics of three training steps of the tiny MIM-Net
under the paper's recipe and under the bundled model's options, recorded with the trainer
that held MIM-Net's two-stage step itself (commit b3bd3d6). The configs use the top-level
``losses`` and ``memory_updates`` of that time, so the migration into ``recipe`` is pinned
too.

The paired config's numbers depend on the CPU: its composite output makes the reconstruction
term tiny (~5e-6), and on an AMD EPYC the first step already differs from the recording
machine's (Sapphire Rapids, AVX-512) by 4e-5 relative in that term and by 0.6 % in the
true-edit L1 (other kernels, other rounding); three adversarial steps amplify it to 30 %. So it is pinned at its first step
(every metric within 1 %) and by its metric names after; the paper config agrees to 1e-6 on
both CPUs and stays pinned for all three steps.
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


#: config -> (steps whose values are pinned, relative tolerance): see the module docstring
PINNED_STEPS = {"paper": (3, 1e-3), "paired": (1, 1e-2)}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mimnet_recipe_losses_are_pinned(name, tiny):
    trainer = Trainer(tiny(**CONFIGS[name]), progress=False)
    assert trainer.config.recipe.type == "mimnet"
    steps, rel = PINNED_STEPS[name]
    for step, expected in enumerate(PINNED[name]):
        metrics = trainer.train_step()
        assert set(metrics) == set(expected), step
        if step < steps:
            for key, value in expected.items():
                assert metrics[key] == pytest.approx(value, rel=rel, abs=1e-6), (step, key)
