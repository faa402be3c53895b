"""The runner end to end: references with known answers, resuming, reports from saved files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from textedit.errors import InputError
from textedit.evaluation import evaluate
from textedit.evaluation.aggregate import aggregate
from textedit.evaluation.report import format_table

REFS = dict(data_n=60, limit=4, batch_size=3, gallery=2, image_size=32)


@pytest.fixture(scope="module")
def refs_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "refs"
    return out, evaluate(["identity", "true-edit"], "synthetic:birds", out, **REFS)


def _mean(results, label, name):
    return results["models"][label]["results"][name]["mean"]


def test_references_have_their_known_scores(refs_run):
    _, r = refs_run
    assert _mean(r, "identity", "diff") == 0.0 and _mean(r, "identity", "edit_acc") == 0.0
    assert _mean(r, "identity", "bg_change") == 0.0 and _mean(r, "identity", "id_diff") == 0.0
    for name, value in (
        ("attr_acc", 1.0),
        ("edit_acc", 1.0),
        ("colour_acc", 1.0),
        ("l1", 0.0),
        ("psnr", 100.0),
        ("ssim", 1.0),
        ("bg_change", 0.0),
        ("unmentioned_change", 0.0),
        ("id_diff", 0.0),
    ):
        assert _mean(r, "true-edit", name) == pytest.approx(value, abs=1e-6), name
    assert _mean(r, "true-edit", "diff") > 0
    assert _mean(r, "true-edit", "diff") == pytest.approx(_mean(r, "identity", "l1"))
    assert r["n"] == 4 and "sim" in r["skipped"] and "is" in r["skipped"]


def test_reports_are_written_and_rebuilt_from_the_files(refs_run):
    out, r = refs_run
    for name in ("results.json", "results.csv", "results.md", "index.html", "eval_config.json"):
        assert (out / name).is_file()
    html = (out / "index.html").read_text()
    assert html.count("_input.png") == 2 and "true edit" in html
    again = aggregate(out, ["identity", "true-edit"], 4, r["metrics"], r["skipped"])
    assert format_table(again) == format_table(r)
    assert (
        json.loads((out / "results.json").read_text())["models"]["identity"]["results"]["diff"][
            "mean"
        ]
        == 0.0
    )
    assert "| Diff |" in (out / "results.md").read_text()


def test_saved_outputs_reproduce_the_per_item_numbers(refs_run):
    from textedit.evaluation.metrics import diff
    from textedit.evaluation.sources import open_eval_data

    out, _ = refs_run
    data = open_eval_data("synthetic:birds", n=REFS["data_n"])
    for line in (out / "models" / "true-edit" / "records.jsonl").read_text().splitlines():
        rec = json.loads(line)
        saved = torch.from_numpy(
            np.array(Image.open(out / "models" / "true-edit" / "outputs" / f"{rec['id']}.png"))
        ).permute(2, 0, 1)
        image = (data.item(rec["index"], 32)["image"] + 1) / 2
        assert diff(image[None], saved[None].float() / 255).item() == pytest.approx(
            rec["metrics"]["diff"], abs=1e-6
        )


def test_resume_adds_items_and_models_without_recomputing(refs_run, tiny_model_dir, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(refs_run[0], out)
    records = out / "models" / "identity" / "records.jsonl"
    before = records.read_text()
    with open(records, "a") as f:
        f.write('{"index": 9, "torn')  # a line cut by a kill
    r = evaluate(
        ["identity", "true-edit", f"tiny={tiny_model_dir}"],
        "synthetic:birds",
        out,
        **{**REFS, "limit": 5},
    )
    lines = records.read_text().splitlines()
    assert (
        lines[: len(before.splitlines())] == before.splitlines()
    )  # old records kept, not recomputed
    assert r["n"] == 5 and set(r["models"]) == {"identity", "true-edit", "tiny"}
    assert r["models"]["tiny"]["image_size"] == 64 and 0 < _mean(r, "tiny", "diff") < 1
    assert (out / "models" / "tiny" / "maps").is_dir()


def test_results_of_other_code_are_not_resumed(refs_run, tmp_path, monkeypatch):
    # weights and settings alike, but the code that computed the results changed (a model's
    # forward, the renderer, a metric): resuming would mix old and new records
    import importlib

    evaluate_module = importlib.import_module("textedit.evaluation.evaluate")
    out = tmp_path / "copy"
    shutil.copytree(refs_run[0], out)
    monkeypatch.setattr(evaluate_module, "source_digest", lambda: "0123456789ab")
    with pytest.raises(InputError, match=r"other code \(textedit .*, sources \w+; this is textedit .*, sources 0123456789ab\)"):
        evaluate(["identity"], "synthetic:birds", out, **REFS)
    r = evaluate(["identity"], "synthetic:birds", out, overwrite=True, **REFS)
    assert r["n"] == REFS["limit"] and set(r["models"]) == {"identity"}


def test_other_settings_in_the_same_folder_are_refused(refs_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(refs_run[0], out)
    with pytest.raises(InputError, match=r"other data.fingerprint .*'seed': 0.* there, .*'seed': 5.* now"):
        evaluate(["identity"], "synthetic:birds", out, **{**REFS, "data_seed": 5})
    with pytest.raises(InputError, match=r"other settings.seed \(0 there, 3 now\)"):
        evaluate(["identity"], "synthetic:birds", out, **{**REFS, "seed": 3})
    evaluate(["identity"], "synthetic:birds", out, **{**REFS, "data_seed": 0})  # the default, said
    r = evaluate(["identity"], "synthetic:birds", out, overwrite=True, **{**REFS, "data_seed": 5})
    assert r["config"]["settings"]["data_seed"] == 5


def test_generated_folder_matches_the_on_the_fly_data(tmp_path):
    from textedit.data.synthetic import SyntheticSpec, generate_dataset

    spec = SyntheticSpec("birds", n=20, seed=0)  # 2 test images, 4 pairs
    generate_dataset(tmp_path / "data", spec, 32)
    a = evaluate(["true-edit"], str(tmp_path / "data"), tmp_path / "a", limit=3, gallery=0)
    b = evaluate(
        ["true-edit"],
        "synthetic:birds",
        tmp_path / "b",
        limit=3,
        gallery=0,
        data_n=20,
        image_size=32,
    )
    assert _mean(a, "true-edit", "diff") == pytest.approx(_mean(b, "true-edit", "diff"))


def test_captioned_folder_uses_mismatched_captions_and_has_no_truth(tmp_path):
    root = tmp_path / "real"
    (root / "images").mkdir(parents=True)
    lines = []
    for i in range(4):
        Image.fromarray(np.full((20, 20, 3), 40 * i, dtype=np.uint8)).save(
            root / "images" / f"{i}.png"
        )
        lines.append(
            json.dumps(
                {"image": f"images/{i}.png", "captions": [f"a bird number {i}"], "split": "test"}
            )
        )
    (root / "captions.jsonl").write_text("\n".join(lines) + "\n")
    r = evaluate(["identity"], str(root), tmp_path / "out", image_size=16, gallery=1)
    assert _mean(r, "identity", "diff") == 0.0 and "attr_acc" in r["skipped"]
    rec = json.loads(
        (tmp_path / "out" / "models" / "identity" / "records.jsonl").read_text().splitlines()[0]
    )
    assert rec["description"] != "a bird number 0"
    with pytest.raises(InputError, match="true edits"):
        evaluate(["identity", "true-edit"], str(root), tmp_path / "out2", image_size=16)
    assert not (tmp_path / "out2").exists()  # found before anything ran or was written


def test_bad_inputs_teach():
    with pytest.raises(InputError, match="synthetic:<family>"):
        evaluate(["identity"], "no/such/folder", "/tmp/unused")
    with pytest.raises(InputError, match="unknown metric"):
        evaluate(["identity"], "synthetic:birds", "/tmp/unused", metrics="diff,nope", data_n=60)
    with pytest.raises(InputError, match="needs a DAMSM"):
        evaluate(["identity"], "synthetic:birds", "/tmp/unused", metrics="sim", data_n=60)
    with pytest.raises(InputError, match="synthetic:<family>"):  # one model as a string, not its letters
        evaluate("identity", "no/such/folder", "/tmp/unused")
    with pytest.raises(InputError, match="limit must be a whole number, got 2.5"):
        evaluate(["identity"], "synthetic:birds", "/tmp/unused", limit=2.5, data_n=60)
    with pytest.raises(InputError, match="share a label"):
        evaluate(["identity", "identity"], "synthetic:birds", "/tmp/unused", data_n=60)


def test_metric_selection_rules():
    from textedit.evaluation.selection import select_metrics

    metrics, skipped = select_metrics("auto", {"truth"})
    assert "attr_acc" in metrics and "pattern_acc" not in metrics and "sim" in skipped
    metrics, _ = select_metrics("exact,diff", {"truth"})  # a group leaves out what it cannot do
    assert "diff" in metrics and "l1" in metrics and "pattern_acc" not in metrics
    with pytest.raises(InputError, match="attribute classifier"):
        select_metrics("pattern_acc", {"truth"})
    from textedit.evaluation.evaluate import EvalSettings

    assert EvalSettings("synthetic:birds", metrics=["diff", "l1"]).metrics == "diff,l1"
    metrics, _ = select_metrics("mp", {"truth", "damsm"})  # MP is read off Sim and Diff
    assert {"mp", "sim", "diff"} <= set(metrics)
    with pytest.raises(InputError, match="names no metric"):
        select_metrics(",", {"truth"})


def test_changed_metrics_are_refused_and_the_folder_lists_every_model(refs_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(refs_run[0], out)
    with pytest.raises(InputError, match="other metrics"):
        evaluate(["identity"], "synthetic:birds", out, metrics="diff", **REFS)
    evaluate(["identity"], "synthetic:birds", out, **REFS)  # same settings: nothing to do
    labels = [m["label"] for m in json.loads((out / "eval_config.json").read_text())["models"]]
    assert labels == ["true-edit", "identity"]


def test_an_out_folder_never_writes_into_or_deletes_what_it_evaluates(tiny_model_dir, tmp_path):
    """``--out .`` beside ``models/mine`` would write the eval's files into the model (whose
    digest then changed), and ``--overwrite`` deleted it; an --out inside a data folder
    wrote PNGs into the data set. All refused before anything is written."""
    project = tmp_path / "project"
    shutil.copytree(tiny_model_dir, project / "models" / "mine")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    for overwrite in (False, True):
        with pytest.raises(InputError, match="where the evaluation writes"):
            evaluate([str(project / "models" / "mine")], "synthetic:birds", project, overwrite=overwrite, **REFS)
        with pytest.raises(InputError, match="lies in the model 'mine'"):
            evaluate([str(project / "models" / "mine")], "synthetic:birds", project / "models" / "mine" / "eval",
                     overwrite=overwrite, **REFS)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    from textedit.data.synthetic import SyntheticSpec, generate_dataset

    generate_dataset(tmp_path / "data", SyntheticSpec("birds", n=20, seed=0), 32)
    with pytest.raises(InputError, match="lies in the data"):
        evaluate(["identity"], str(tmp_path / "data"), tmp_path / "data", limit=2)


def test_a_resumed_reference_column_keeps_its_image_size(tiny_model_dir, tmp_path):
    """The references take the first model's size when --image-size is not given: a rerun
    led by a model of another size measured new items of the same column at another size."""
    from textedit.models import AttnGAN

    torch.manual_seed(0)
    AttnGAN.from_config(AttnGAN.example_config()).save_pretrained(tmp_path / "attn")  # draws 16 px
    out, settings = tmp_path / "e", dict(data_n=60, limit=2, gallery=0)
    evaluate([f"tiny={tiny_model_dir}", "identity"], "synthetic:birds", out, **settings)  # identity at 64 px
    config_before = (out / "eval_config.json").read_text()
    with pytest.raises(InputError, match=r"settings.image_size \(64 there, 16 now\).*--image-size 64"):
        evaluate([f"attn={tmp_path / 'attn'}", "identity"], "synthetic:birds", out, **{**settings, "limit": 3})
    assert (out / "eval_config.json").read_text() == config_before  # a refused run writes nothing
    r = evaluate([f"attn={tmp_path / 'attn'}", "identity"], "synthetic:birds", out,
                 **{**settings, "limit": 3, "image_size": 64})
    assert r["models"]["identity"]["image_size"] == 64 and r["models"]["attn"]["image_size"] == 16
    with pytest.raises(InputError, match="--image-size must be at least 1"):
        evaluate(["identity"], "synthetic:birds", out, image_size=0, data_n=60)


def test_damaged_state_files_say_what_to_do(refs_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(refs_run[0], out)
    records = out / "models" / "identity" / "records.jsonl"
    with open(records, "a") as f:
        f.write('42\n{"foo": 1}\n')  # lines that are not records are dropped like torn ones
    assert evaluate(["identity"], "synthetic:birds", out, **REFS)["n"] == 4
    assert "42\n" not in records.read_text() and '{"foo"' not in records.read_text()
    (out / "models" / "identity" / "model.json").write_text('{"label": ')
    with pytest.raises(InputError, match=r"model.json is damaged .*pass --overwrite"):
        evaluate(["identity"], "synthetic:birds", out, **REFS)
    assert evaluate(["identity"], "synthetic:birds", out, overwrite=True, **REFS)["n"] == 4
    (out / "eval_config.json").write_text("")
    with pytest.raises(InputError, match=r"eval_config.json is damaged"):
        evaluate(["identity"], "synthetic:birds", out, **REFS)
    assert evaluate(["identity"], "synthetic:birds", out, overwrite=True, **REFS)["n"] == 4


def test_a_rerun_asking_for_more_pngs_writes_them_without_measuring_again(tiny_model_dir, tmp_path):
    out, settings = tmp_path / "e", dict(data_n=60, limit=3, gallery=1)
    evaluate(["identity", f"tiny={tiny_model_dir}"], "synthetic:birds", out, save_outputs=False, **settings)
    records = (out / "models" / "tiny" / "records.jsonl").read_text()
    assert len(list((out / "models" / "tiny" / "outputs").glob("*.png"))) == 1
    evaluate(["identity", f"tiny={tiny_model_dir}"], "synthetic:birds", out, **{**settings, "gallery": 2})
    assert len(list((out / "models" / "tiny" / "outputs").glob("*.png"))) == 3  # every output saved now
    assert len(list((out / "images").glob("*_input.png"))) == 2 and (out / "index.html").read_text().count("_input.png") == 2
    assert (out / "models" / "tiny" / "records.jsonl").read_text() == records  # nothing measured twice


def test_edit_notes_count_each_description_once():
    import warnings
    from types import SimpleNamespace

    from textedit.editing.text import EditWarning
    from textedit.evaluation.models import LoadedModel

    def edit(image, texts):
        for text in texts:
            warnings.warn(EditWarning(f"{text!r}: the model does not know zorp"))
        return SimpleNamespace(fine=image, localization=None)

    model = LoadedModel("m", "m", SimpleNamespace(image_size=8, edit=edit), {})
    for _ in range(3):  # the same description in three batches (and as an identity edit)
        model.edit(torch.zeros(2, 3, 8, 8), ["a zorp bird", "a red bird"], None)
    assert {k: len(v) for k, v in model.warnings.items()} == {"words the model does not know": 2}


def test_a_model_trained_on_the_evaluated_images_is_named(tiny_model_dir, tmp_path):
    # generated scene i depends on (family, seed, i) alone: a run on 80 images trains on
    # images 0..71, which hold the test split of a 60-image set (54..59)
    run = tmp_path / "run"
    shutil.copytree(tiny_model_dir, run / "model")
    (run / "config.yaml").write_text("data:\n  type: synthetic\n  family: birds\n  num_images: 80\n  data_seed: 0\n")
    notes = []
    evaluate([str(run / "model")], "synthetic:birds", tmp_path / "e", log=notes.append, data_n=60, limit=1, gallery=0)
    (note,) = [n for n in notes if n.startswith("warning:")]
    assert "run (" in note and "trained on 6 of the generated images evaluated here" in note and "54..59" in note
    notes.clear()  # another data seed: nothing seen
    evaluate([str(run / "model")], "synthetic:birds", tmp_path / "f", log=notes.append, data_n=60, data_seed=1, limit=1, gallery=0)
    assert not [n for n in notes if n.startswith("warning:")]


def test_a_model_in_memory_is_a_column(tmp_path):
    import textedit
    from textedit.testing import TINY_MIMNET

    torch.manual_seed(0)
    model = textedit.create_model(TINY_MIMNET)
    r = evaluate(["identity", ("tiny", model), model], "synthetic:birds", tmp_path / "e", data_n=60, limit=2, gallery=0, log=lambda s: None)
    assert set(r["models"]) == {"identity", "tiny", "mimnet"}
    assert r["models"]["tiny"]["fingerprint"] == r["models"]["mimnet"]["fingerprint"]  # the weights' digest
    with pytest.raises(InputError, match="EditingModel or GeneratingModel"):
        evaluate([object()], "synthetic:birds", tmp_path / "f", data_n=60, limit=1)
