"""``scripts/bundle_model.py``: a finished run becomes a bundled, float16, catalogued model.

Everything is bundled into temporary folders: no test writes into the package.
"""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pytest
from safetensors import safe_open

import textedit
from textedit.cli import main as cli
from textedit.testing import TINY_MIMNET

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "bundle_model", ROOT / "scripts" / "bundle_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_model = _load_script()

TINY_RUN = {
    "model": TINY_MIMNET,
    "data": {"type": "synthetic", "family": "birds", "num_images": 12},
    "batch_size": 4,
    "steps": 2,
    "checkpoint_every": 2,
    "sample_every": 2,
    "log_every": 1,
    "num_samples": 2,
    "threads": 1,
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real (tiny) finished `textedit train` run."""
    from textedit.training import TrainConfig, Trainer

    out = tmp_path_factory.mktemp("run") / "tiny"
    Trainer(
        TrainConfig.model_validate({**TINY_RUN, "output_dir": str(out)}), progress=False
    ).train()
    return out


def test_bundles_in_float16_with_a_full_catalogue_entry(run_dir, tmp_path):
    entry = bundle_model.bundle(run_dir, dest=tmp_path)
    folder = tmp_path / "mimnet64_birds"
    weights = sorted(folder.glob("*/model.safetensors"))
    assert len(weights) == 6
    with safe_open(str(folder / "generator" / "model.safetensors"), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}  # noqa: SIM118
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in folder.rglob("*") if p.is_file())
    catalogue = json.loads((tmp_path / "bundled.json").read_text())
    assert catalogue == {"mimnet64_birds": entry}
    assert entry["name"] == "mimnet64_birds" and entry["recipe"] == "mimnet64_birds"
    assert entry["command"].startswith("textedit train --config mimnet64_birds ")
    assert entry["recipe_overrides"]["steps"] == 2 and "output_dir" not in entry["recipe_overrides"]
    assert entry["steps"] == 2 and entry["images_seen"] == 8 and entry["batch_size"] == 4
    assert entry["wall_time_s"] > 0 and entry["images_per_s"] > 0 and "h" in entry["wall_time"]
    assert (
        entry["textedit_version"] == textedit.__version__
        and entry["schema_version"] == textedit.SCHEMA_VERSION
    )
    assert entry["storage_dtype"] == "float16" and 0 < entry["size_mb"] < 25
    assert entry["fp16_mean_abs_diff"] < bundle_model.MAX_FP16_DRIFT
    assert set(entry["files"]) >= {"model_index.json", "generator/model.safetensors"}
    assert "evaluation" in entry and entry["evaluation"] is None
    assert entry["description"]


def test_the_bundled_model_is_the_default_of_textedit_edit(run_dir, tmp_path, monkeypatch, capsys):
    """With a model bundled (here into a temporary pretrained folder), `textedit edit`
    needs no --model: the README's first command."""
    from textedit import pretrained

    bundle_model.bundle(run_dir, dest=tmp_path / "pretrained")
    monkeypatch.setattr(pretrained, "_HERE", tmp_path / "pretrained")
    assert textedit.list_pretrained() == ["mimnet64_birds"]
    assert pretrained.pretrained_info("mimnet64_birds")["steps"] == 2
    image = ROOT / "examples" / "images" / "bird_128.png"
    out = tmp_path / "out"
    assert (
        cli(
            [
                "edit",
                "--image",
                str(image),
                "--text",
                "this bird has a red head",
                "--explain",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "edited image:" in capsys.readouterr().out
    assert len(list(out.glob("*.explain.png"))) == 1


def test_over_budget_leaves_the_previous_bundle(run_dir, tmp_path):
    bundle_model.bundle(run_dir, dest=tmp_path)
    before = (tmp_path / "bundled.json").read_text()
    with pytest.raises(bundle_model.BundleError, match="more than the budget of 0.001 MB"):
        bundle_model.bundle(run_dir, dest=tmp_path, max_mb=0.001, overwrite=True)
    assert (tmp_path / "bundled.json").read_text() == before
    assert textedit.load_composition(tmp_path / "mimnet64_birds").image_size == 64
    assert [p.name for p in tmp_path.iterdir()] and not [
        p for p in tmp_path.iterdir() if p.name.startswith(".")
    ]


def test_refuses_to_replace_without_overwrite_and_incomplete_runs(run_dir, tmp_path, capsys):
    bundle_model.bundle(run_dir, dest=tmp_path)
    assert bundle_model.main([str(run_dir), "--dest", str(tmp_path)]) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "config.yaml").write_text("steps: 3\n")
    assert bundle_model.main([str(tmp_path / "unfinished"), "--dest", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert (
        "not a finished training run" in err
        and "model/model_index.json" in err
        and "--resume" in err
    )


def test_wall_time_adds_up_the_logging_windows():
    records = [
        {"step": 10, "images_per_s": 20.0, "time": 100.0},
        {"step": 20, "images_per_s": 40.0, "time": 104.0},
        {"step": 30, "images_per_s": 40.0, "time": 5000.0},  # resumed much later
    ]
    timing = bundle_model.timing(records, batch_size=8)
    assert timing["steps"] == 30 and timing["images_seen"] == 240
    assert timing["wall_time_s"] == pytest.approx(80 / 20 + 80 / 40 + 80 / 40)
    assert timing["images_per_s"] == pytest.approx(240 / 8.0)
    assert timing["log_span_s"] == 4900.0


def test_evaluation_summary_goes_into_the_catalogue(run_dir, tmp_path):
    from textedit.evaluation import evaluate

    bundle_model.bundle(run_dir, dest=tmp_path)
    folder = tmp_path / "mimnet64_birds"
    evaluate([f"bundled={folder}", "identity"], "synthetic:birds", tmp_path / "eval", limit=2,
             data_n=40, progress=False)
    with pytest.raises(bundle_model.BundleError, match="not the bundled model"):
        bundle_model.attach_evaluation(tmp_path / "eval", "identity", dest=tmp_path)
    summary = bundle_model.attach_evaluation(tmp_path / "eval", "bundled", dest=tmp_path)
    entry = json.loads((tmp_path / "bundled.json").read_text())["mimnet64_birds"]
    assert entry["evaluation"] == summary and summary["items"] == 2
    assert 0 < summary["metrics"]["diff"]["mean"] < 1 and "attr_acc" in summary["metrics"]
