"""The benchmark scripts run on every registered model (tiny configs), so they do not rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from textedit.registry.api import resolve_model_config
from textedit.testing import registered_models

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", registered_models())
def test_model_presets_benchmark_steps_every_models_recipe(name):
    bench = _script("model_presets")
    composition, _ = resolve_model_config(name)
    model = composition.from_config(composition.example_config()).train()
    before = [p.detach().clone() for p in model.parameters()]
    step = bench.recipe_step(model)
    step(bench._images(2, model.image_size), bench._texts(2))
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
