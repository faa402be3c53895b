"""``textedit edit``: one image and one description, or a folder x a descriptions file."""

from __future__ import annotations

import re

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
