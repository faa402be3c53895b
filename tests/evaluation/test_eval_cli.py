"""``textedit eval`` and ``textedit train-damsm`` from the command line."""

from __future__ import annotations

import json

import pytest

from textedit.cli import main
from textedit.models.damsm import DAMSM


def test_commands_are_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "eval" in text and "train-damsm" in text


def test_eval_prints_a_table_and_rebuilds_it(tmp_path, capsys):
    out = tmp_path / "e"
    args = [
        "eval",
        "--model",
        "identity",
        "--model",
        "truth=true-edit",
        "--data",
        "synthetic:birds",
        "--data-n",
        "60",
        "--limit",
        "2",
        "--image-size",
        "32",
        "--out",
        str(out),
        "--no-progress",
        "--metrics",
        "diff,exact,identity",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert (
        "identity" in printed
        and "truth" in printed
        and "Diff" in printed
        and "attribute acc." in printed
    )
    assert main(["eval", "--report-only", "--out", str(out)]) == 0
    again = capsys.readouterr().out
    assert (
        printed.split("\n", 1)[1]
        .split("reports:")[0]
        .strip()
        .startswith(again.strip().splitlines()[0].strip())
    )
    results = json.loads((out / "results.json").read_text())
    assert results["models"]["truth"]["results"]["attr_acc"]["mean"] == 1.0


def test_eval_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["eval", "--data", "synthetic:birds", "--out", str(tmp_path)]) == 2
    assert "give --model" in capsys.readouterr().err
    assert (
        main(
            [
                "eval",
                "--model",
                "identity",
                "--data",
                "synthetic:birds",
                "--metrics",
                "is",
                "--data-n",
                "60",
                "--inception-weights",
                str(tmp_path / "none.pth"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert "does not exist" in capsys.readouterr().err


def test_train_damsm_command(tmp_path, capsys):
    args = [
        "train-damsm",
        "--out",
        str(tmp_path / "d"),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--data-n",
        "40",
        "--image-size",
        "16",
        "--feature-dim",
        "8",
        "--embedding-dim",
        "8",
        "--width",
        "4",
        "--eval-images",
        "4",
        "--max-words",
        "7",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "held-out Sim" in capsys.readouterr().out
    assert (tmp_path / "d" / "model" / "model_index.json").is_file()  # a composition
    assert DAMSM.from_pretrained(tmp_path / "d").text_encoder.config.max_words == 7
    assert main(args) == 1  # the folder already holds a run
    assert "--resume" in capsys.readouterr().err
    # on --resume, left out is the run's own and a value given explicitly (the default 32
    # here) is checked against it, not mistaken for one left out
    assert main(["train-damsm", "--out", str(tmp_path / "d"), "--resume", "--no-progress"]) == 0
    assert main(["train-damsm", "--out", str(tmp_path / "d"), "--resume", "--batch-size", "32"]) == 2
    assert "trained with batch_size=4, not 32" in capsys.readouterr().err
    evaluated = [
        "eval", "--model", "identity", "--model", "true-edit", "--data", "synthetic:birds",
        "--data-n", "60", "--limit", "2", "--image-size", "16", "--metrics", "sim,mp",
        "--damsm", str(tmp_path / "d" / "model"), "--out", str(tmp_path / "e"), "--no-progress",
    ]
    assert main(evaluated) == 0
    results = json.loads((tmp_path / "e" / "results.json").read_text())
    for label in ("identity", "true-edit"):
        assert {"sim", "mp"} <= set(results["models"][label]["results"])


def test_report_only_rebuilds_from_the_records_and_finds_a_runs_model_by_its_label(tiny_model_dir, tmp_path, capsys):
    import shutil

    run = tmp_path / "runs" / "mine"
    shutil.copytree(tiny_model_dir, run / "model")
    out = tmp_path / "e"
    common = ["--data", "synthetic:birds", "--data-n", "60", "--out", str(out), "--no-progress"]
    assert main(["eval", "--model", "identity", "--model", str(run / "model"), "--limit", "3", *common]) == 0
    table = capsys.readouterr().out
    assert "mine" in table
    (out / "results.json").unlink()
    assert main(["eval", "--report-only", "--out", str(out), "--model", str(run / "model")]) == 0
    printed = capsys.readouterr().out
    assert "reporting the first 3 items" in printed and "mine" in printed
    assert json.loads((out / "results.json").read_text())["n"] == 3
    assert main(["eval", "--report-only", "--out", str(out), "--model", "other"]) == 2
    assert "holds no results of other; it holds identity, mine" in capsys.readouterr().err
    (out / "results.json").write_text('{"n": ')
    assert main(["eval", "--report-only", "--out", str(out)]) == 2
    assert "results.json is damaged" in capsys.readouterr().err
    (out / "results.json").unlink()  # as the message says
    assert main(["eval", "--report-only", "--out", str(out)]) == 0
    assert main(["eval", "--model", "identity", "--threads", "-1", *common]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
