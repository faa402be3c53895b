"""The attribute classifier: heads, saving, its score, and a few training steps."""

from __future__ import annotations

import json

import pytest
import torch

from textedit.errors import CheckpointError
from textedit.evaluation.classifier import AttributeClassifier, classifier_score


def test_heads_cover_every_slot_and_classify_reads_values():
    clf = AttributeClassifier({"family": "birds", "image_size": 32, "width": 4})
    out = clf(torch.rand(2, 3, 48, 48) * 2 - 1)
    assert set(out.logits) == {f"{p}.{a}" for p, a in clf.slots}
    assert out.logits["head.colour"].shape == (2, 11) and out.features.shape == (2, clf.feature_dim)
    readings, probs, feats = clf.classify(torch.zeros(3, 3, 32, 32))
    assert readings[0][("tail", "size")] in ("short", "long")
    assert torch.allclose(probs["beak.size"].sum(-1), torch.ones(3))


def test_save_and_load_roundtrip(tmp_path):
    clf = AttributeClassifier({"family": "flowers", "image_size": 32, "width": 4}).eval()
    clf.save_pretrained(tmp_path / "c")
    back = AttributeClassifier.from_pretrained(tmp_path / "c")
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(clf(x).features, back(x).features)
    config = json.loads((tmp_path / "c" / "config.json").read_text())
    assert config["type"] == "attribute_classifier" and config["family"] == "flowers"
    with pytest.raises(CheckpointError, match="no config.json"):
        AttributeClassifier.from_pretrained(tmp_path / "missing")


def test_classifier_score_bounds():
    uniform = {"a": torch.full((10, 4), 0.25), "b": torch.full((10, 2), 0.5)}
    assert classifier_score(uniform, splits=2)[0] == pytest.approx(1.0)
    certain = {"a": torch.eye(4).repeat(5, 1), "b": torch.eye(2).repeat(10, 1)}
    mean, _ = classifier_score(certain, splits=1)
    assert mean == pytest.approx((4 * 2) ** 0.5)  # geometric mean of the head sizes


def test_train_classifier_writes_model_and_accuracy(tmp_path):
    from textedit.evaluation.classifier_train import train_classifier

    summary = train_classifier(
        tmp_path / "run",
        image_size=32,
        width=4,
        n_train=16,
        n_test=8,
        data_n=40,
        steps=3,
        batch_size=8,
        progress=False,
        log=lambda s: None,
    )
    acc = summary["held_out_accuracy"]
    assert 0.0 <= acc["all"] <= 1.0 and {"colour", "pattern", "size"} <= set(acc)
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["settings"]["n_train"] == 16


def test_train_classifier_command_trains_and_says_what_to_fix(tmp_path, capsys):
    from textedit.evaluation.__main__ import main

    tiny = ["--image-size", "32", "--width", "4", "--n-train", "16", "--n-test", "4", "--data-n", "40",
            "--batch-size", "8", "--threads", "1", "--no-progress"]
    assert main(["train-classifier", "--out", str(tmp_path / "run"), "--steps", "2", *tiny]) == 0
    assert "held-out accuracy (4 test images)" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["settings"]["steps"] == 2

    assert main(["train-classifier", "--out", str(tmp_path / "zero"), "--steps", "0", *tiny]) == 1
    assert "steps must be at least 1" in capsys.readouterr().err
    small = [*tiny, "--data-n", "1"]  # the last one counts: one image, no test split
    assert main(["train-classifier", "--out", str(tmp_path / "small"), "--steps", "1", *small]) == 1
    assert "raise data_n (--data-n)" in capsys.readouterr().err
    assert not (tmp_path / "zero").exists() and not (tmp_path / "small").exists()
    assert main([]) == 2
