from __future__ import annotations

import pytest

from textedit.testing import TINY_MIMNET

#: a MIM-Net small enough for a test to train a few steps in seconds on a CPU
TINY_MODEL = TINY_MIMNET


def tiny_config(tmp_path, **fields):
    from textedit.training.config import TrainConfig

    data = {
        "model": TINY_MODEL,
        "data": {"type": "synthetic", "family": "birds", "num_images": 12, "sample_split": "test"},
        "batch_size": 4,
        "steps": 4,
        "checkpoint_every": 2,
        "sample_every": 2,
        "log_every": 1,
        "num_samples": 2,
        "output_dir": str(tmp_path / "run"),
        "threads": 1,
        "device": "cpu",  # on purpose: the exact-resume comparisons are CPU comparisons
    }
    data.update(fields)
    return TrainConfig.model_validate(data)


@pytest.fixture()
def tiny(tmp_path):
    return lambda **fields: tiny_config(tmp_path, **fields)
