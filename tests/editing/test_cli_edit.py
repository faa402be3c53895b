"""``textedit edit``: one image and one description, or a folder x a descriptions file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from editing_fixtures import bird
from PIL import Image

from textedit.cli import main

TEXT = "this bird has a red head and white wings"


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["edit", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "in"
    path.mkdir()
    bird(48, 0).save(path / "one.png")
    bird(64, 1).resize((80, 50)).save(path / "two.jpg")
    bird(40, 2).save(path / "three.png")
    return path


def test_one_image_one_description_with_explanation(standin_dir, tmp_path, capsys):
    bird(48).save(tmp_path / "b.png")
    out = tmp_path / "out"
    code, stdout, _ = _cli(
        capsys,
        "--image",
        tmp_path / "b.png",
        "--text",
        TEXT,
        "--model",
        standin_dir,
        "--out",
        out,
        "--explain",
    )
    assert code == 0
    edited = out / "b__this-bird-has-a-red-head-and-white-wings.png"
    figure = out / "b__this-bird-has-a-red-head-and-white-wings.explain.png"
    assert f"edited image: {edited}" in stdout and f"explanation: {figure}" in stdout
    assert Image.open(edited).size == (32, 32)
    assert Image.open(figure).width >= 5 * 128
    assert (out / "inputs" / "b.png").is_file() and (out / "index.html").is_file()
    assert not [p for p in out.rglob(".*")], "no temporary files are left behind"


def test_folder_times_descriptions_writes_the_gallery(standin_dir, folder, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text(
        "# comment\nthis bird has a red head\n\na bird with blue wings\nthis bird is yellow\n",
        encoding="utf-8",
    )
    out = tmp_path / "gallery"
    code, stdout, err = _cli(
        capsys,
        "--image",
        folder,
        "--texts",
        texts,
        "--model",
        standin_dir,
        "--out",
        out,
        "--explain",
        "--batch-size",
        "4",
    )
    assert code == 0
    assert "3 image(s) × 3 description(s): 9 edits" in stdout
    assert re.search(r"9/9", err), "a progress bar on batches"
    edits = sorted(p.name for p in out.glob("*.png") if not p.name.endswith(".explain.png"))
    assert len(edits) == 9 and len(list(out.glob("*.explain.png"))) == 9
    page = (out / "index.html").read_text(encoding="utf-8")
    for header in ("this bird has a red head", "a bird with blue wings", "this bird is yellow"):
        assert f"“{header}”" in page
    assert page.count("<tr><td>") == 3 and page.count(".explain.png") == 9
    for link in re.findall(r"(?:src|href)='([^']+)'", page):
        assert (out / link).is_file(), link


def test_batch_size_does_not_change_the_edits(standin_dir, folder, tmp_path, capsys):
    outs = []
    for batch in (1, 5):
        out = tmp_path / f"b{batch}"
        assert (
            _cli(
                capsys,
                "--image",
                folder,
                "--text",
                "a red bird",
                "--text",
                "a blue bird",
                "--model",
                standin_dir,
                "--out",
                out,
                "--batch-size",
                batch,
                "--no-progress",
            )[0]
            == 0
        )
        outs.append({p.name: np.asarray(Image.open(p), dtype=int) for p in out.glob("*.png")})
    assert outs[0].keys() == outs[1].keys() and len(outs[0]) == 6
    for name in outs[0]:
        assert np.abs(outs[0][name] - outs[1][name]).max() <= 1, name


def test_nothing_is_overwritten_without_overwrite(standin_dir, tmp_path, capsys):
    bird(48).save(tmp_path / "b.png")
    args = [
        "--image",
        tmp_path / "b.png",
        "--text",
        TEXT,
        "--model",
        standin_dir,
        "--out",
        tmp_path / "o",
    ]
    assert _cli(capsys, *args)[0] == 0
    edited = next((tmp_path / "o").glob("b__*.png"))
    edited.write_bytes(b"keep me")
    code, _, err = _cli(capsys, *args)
    assert code == 2 and "exist already" in err and "--overwrite" in err
    assert edited.read_bytes() == b"keep me"
    assert _cli(capsys, *args, "--overwrite")[0] == 0
    assert Image.open(edited).size == (32, 32)


@pytest.mark.parametrize("composite", ["difference", "mask"])
def test_keep_size_writes_the_original_size(standin_dir, tmp_path, capsys, composite):
    original = bird(64).resize((100, 60))
    original.save(tmp_path / "wide.png")
    code, _stdout, _ = _cli(
        capsys,
        "--image",
        tmp_path / "wide.png",
        "--text",
        TEXT,
        "--model",
        standin_dir,
        "--out",
        tmp_path / "o",
        "--keep-size",
        "--composite",
        composite,
    )
    assert code == 0
    edited = Image.open(next((tmp_path / "o").glob("wide__*.png")))
    assert edited.size == (100, 60)
    left = np.asarray(edited)[:, :20]
    assert np.array_equal(left, np.asarray(original)[:, :20]), (
        "outside the centre square: the original"
    )


def test_help_documents_the_size_policy(capsys):
    with pytest.raises(SystemExit):
        main(["edit", "--help"])
    text = capsys.readouterr().out
    assert "Size policy" in text and "--keep-size" in text and "--overwrite" in text


def test_long_and_non_latin_image_names_fit_the_file_system(standin_dir, tmp_path, capsys):
    """Names of up to 255 bytes are legal; the outputs (and their temporary files) of an
    image named so still fit, so the run writes everything."""
    folder = tmp_path / "in"
    folder.mkdir()
    names = ["b" * 240 + ".png", "红色的头" * 20 + ".png", "a.png"]
    for k, name in enumerate(names):
        bird(32, k).save(folder / name)
    long_text = TEXT + " and a long description of every other part of the bird"
    code, _, err = _cli(
        capsys, "--image", folder, "--text", TEXT, "--text", long_text, "--explain",
        "--model", standin_dir, "--out", tmp_path / "o", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    written = [p.name for p in (tmp_path / "o").glob("*.png")]
    assert len(written) == 3 * 2 * 2 and max(len(n.encode()) for n in written) <= 200
    assert len(list((tmp_path / "o" / "inputs").iterdir())) == 3


def test_different_descriptions_never_share_a_file(standin_dir, tmp_path, capsys):
    """Descriptions whose words agree up to case, punctuation or the 48-character cut get
    different files, so a later run's --overwrite cannot show its edit under another
    description."""
    from textedit.editing.batch import output_names

    texts = [TEXT, TEXT.capitalize() + "!", TEXT + " and a blue tail", TEXT + " and a blue tail and a yellow belly"]
    _, slugs = output_names([Path("b.png")], texts)
    assert len(set(slugs)) == len(texts) and slugs[0] == "this-bird-has-a-red-head-and-white-wings"
    bird(32).save(tmp_path / "b.png")
    common = ["--image", tmp_path / "b.png", "--model", standin_dir, "--out", tmp_path / "o", "--no-progress"]
    assert _cli(capsys, *common, "--text", texts[2])[0] == 0
    assert _cli(capsys, *common, "--text", texts[3])[0] == 0, "no clash with the first run"
    assert len(list((tmp_path / "o").glob("b__*.png"))) == 2


def test_overwrite_leaves_no_table_showing_another_runs_file(standin_dir, tmp_path, capsys):
    import json

    common = ["--model", standin_dir, "--out", tmp_path / "o", "--no-progress"]
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    bird(32, 0).save(first / "b.png")
    bird(32, 5).save(second / "b.png")  # another image under the same name
    assert _cli(capsys, "--image", first / "b.png", "--text", TEXT, "--text", "a bird with a blue tail", *common)[0] == 0
    # the same image, one of the two descriptions again: that cell of the first table goes
    assert _cli(capsys, "--image", first / "b.png", "--text", TEXT, "--overwrite", *common)[0] == 0
    sections = json.loads((tmp_path / "o" / "gallery.json").read_text())["sections"]
    assert len(sections) == 2
    cells = sections[0]["rows"][0]["cells"]
    assert cells[0]["image"] is None and cells[1]["image"].endswith("a-bird-with-a-blue-tail.png")
    assert "replaced by a later run" in (tmp_path / "o" / "index.html").read_text()
    # another image saved as inputs/b.png: the earlier tables' rows of b.png go
    assert _cli(capsys, "--image", second / "b.png", "--text", "a bird with a black crown", "--overwrite", *common)[0] == 0
    sections = json.loads((tmp_path / "o" / "gallery.json").read_text())["sections"]
    assert [s["descriptions"] for s in sections] == [["a bird with a black crown"]]


def test_repeated_descriptions_and_their_numbered_names_never_clash():
    from textedit.editing.batch import output_names

    _, slugs = output_names([Path("b.png")], ["red head", "red head", "red head 2"])
    assert len(set(slugs)) == 3, slugs


def test_a_skipped_image_keeps_its_edits_in_the_earlier_table(standin_dir, tmp_path, capsys):
    import json

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    bird(32, 0).save(first / "b.png")
    bird(32, 1).save(first / "c.png")
    bird(32, 0).save(second / "b.png")
    (second / "c.png").write_bytes(b"not an image")
    common = ["--text", TEXT, "--model", standin_dir, "--out", tmp_path / "o", "--no-progress"]
    assert _cli(capsys, "--image", first, *common)[0] == 0
    assert _cli(capsys, "--image", second, *common, "--overwrite", "--text", "a bird with a blue tail")[0] == 0
    sections = json.loads((tmp_path / "o" / "gallery.json").read_text())["sections"]
    first_table = {row["name"]: row["cells"] for row in sections[0]["rows"]}
    assert first_table["c.png"][0]["image"] is not None, "c.png was skipped, its edit not replaced"
    assert first_table["b.png"][0]["image"] is None, "b.png's edit was written over"


def test_a_gallery_with_fields_of_the_wrong_type_is_refused_before_writing(standin_dir, tmp_path, capsys):
    import json

    out = tmp_path / "o"
    out.mkdir()
    section = {"descriptions": [TEXT], "rows": [{"name": "b.png", "input": "inputs/b.png", "cells": [{"image": 5}]}]}
    (out / "gallery.json").write_text(json.dumps({"sections": [section]}))
    bird(32).save(tmp_path / "b.png")
    code, _, err = _cli(capsys, "--image", tmp_path / "b.png", "--text", TEXT, "--model", standin_dir, "--out", out, "--overwrite")
    assert code == 2 and "not a textedit gallery" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["gallery.json"]
