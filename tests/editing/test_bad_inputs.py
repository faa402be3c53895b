"""The bad-input battery: each bad input gives a clear message, and nothing is written."""

from __future__ import annotations

import json
import shutil

import pytest
from editing_fixtures import bird, write_bad, write_odd_valid
from PIL import Image

import textedit
from textedit.cli import main
from textedit.editing import MAX_DESCRIPTION_CHARS, EditWarning
from textedit.editing.loading import load_for_editing
from textedit.errors import CheckpointError, InputError

TEXT = "this bird has a red head"

BAD_TEXTS = [
    ("", "has no words"),
    ("   ", "has no words"),
    ("!!! ...", "has no words"),
    ("🐦🐦", "has no words"),
    ("a red bird " * 400, "characters long"),
    (
        "ein Vogel mit rotem Kopf",
        r"knows none of the words .*unknown: ein, vogel, mit, rotem, kopf.*e\.g\.",
    ),
    ("这只鸟有红色的头", "knows none of the words"),
]


# ---------------------------------------------------------------------------- the API
@pytest.mark.parametrize(
    "name", ["not_an_image.png", "truncated.png", "zero_bytes.png", "huge_20000x20000.png"]
)
def test_bad_files_name_the_file_and_say_what_to_do(standin, tmp_path, name):
    path, message = write_bad(tmp_path)[name]
    with pytest.raises(InputError, match=message) as info:
        standin.edit(path, TEXT)
    assert name in str(info.value)


def test_missing_file_and_wrong_types(standin, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        standin.edit(tmp_path / "nope.png", TEXT)
    with pytest.raises(InputError, match="cannot edit a int"):
        standin.edit(3, TEXT)
    with pytest.raises(InputError, match="no pixels"):
        standin.edit(Image.new("RGB", (0, 0)), TEXT)
    with pytest.raises(InputError, match="must be a string"):
        standin.edit(bird(32), [None])


@pytest.mark.parametrize("text, message", BAD_TEXTS)
def test_bad_descriptions(standin, text, message):
    with pytest.raises(InputError, match=message):
        standin.edit(bird(32), text)


def test_only_unknown_words_can_be_allowed(standin):
    result = standin.edit(bird(32), "ein Vogel", allow_unknown=True)
    assert result.unknown_words == [("ein", "vogel")]


def test_long_descriptions_are_cut_with_a_warning(standin):
    text = (
        "this bird has a red head and white wings and a blue belly and a short yellow beak "
        "and black legs"
    )
    with pytest.warns(EditWarning, match="longer than the model reads.*black legs"):
        result = standin.edit(bird(32), text)
    assert result.truncated == [True] and len(result.words[0]) == 18


def test_non_ascii_text_is_normalised_and_unknown_words_reported(standin):
    with pytest.warns(EditWarning, match="héad"):
        result = standin.edit(bird(32), "this bird has a red héad")
    assert result.unknown_words == [("héad",)]
    full_width = standin.edit(bird(32), "ｔｈｉｓ ｂｉｒｄ ｉｓ ｒｅｄ")  # NFKC -> plain letters
    assert full_width.words == [("this", "bird", "is", "red")] and full_width.unknown_words == [()]


def test_description_length_limit_is_in_characters(standin):
    # counted in characters, whatever the words: the limit itself passes, one more does not
    text = ("red " * MAX_DESCRIPTION_CHARS)[:MAX_DESCRIPTION_CHARS]
    with pytest.warns(EditWarning):  # cut to the encoder's words, with a warning
        standin.edit(bird(32), text)
    with pytest.raises(InputError, match=f"{MAX_DESCRIPTION_CHARS + 1} characters long"):
        standin.edit(bird(32), text + "x")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_tensor_with_nan_or_inf_is_refused(standin, bad):
    import torch

    image = torch.zeros(1, 3, standin.image_size, standin.image_size)
    image[0, 1, 3, 4] = bad  # one pixel is enough
    with pytest.raises(InputError, match="finite"):
        standin.edit(image, TEXT)


@pytest.mark.parametrize("dtype", ["float64", "bfloat16"])
def test_a_model_in_another_dtype_edits_its_inputs_in_it(standin_dir, dtype):
    import torch

    model = textedit.load(standin_dir).to(getattr(torch, dtype))
    result = model.edit(bird(32), TEXT)
    reference = textedit.load(standin_dir).edit(bird(32), TEXT)
    assert result.image.size == reference.image.size
    assert (result.fine.float() - reference.fine).abs().max() < 0.1


def test_a_model_with_nan_weights_is_named_not_saved_black(standin_dir):
    import torch

    model = textedit.load(standin_dir)
    with torch.no_grad():
        next(model.generator.parameters()).fill_(float("nan"))
    with pytest.raises(CheckpointError, match=r"weights hold NaN .*first in generator\..*diverged.*earlier checkpoint"):
        model.edit(bird(32), TEXT)


def test_an_index_naming_a_preset_is_refused(standin_dir, tmp_path):
    path = tmp_path / "edited"
    shutil.copytree(standin_dir, path)
    index = json.loads((path / "model_index.json").read_text())
    (path / "model_index.json").write_text(json.dumps({**index, "type": "mimnet_64"}))
    with pytest.raises(CheckpointError, match="'type' 'mimnet_64' is a preset, not a composition"):
        textedit.load(path)


def test_missing_model(monkeypatch):
    with pytest.raises(CheckpointError, match="no model 'nope'"):
        load_for_editing("nope")
    monkeypatch.setattr("textedit.pretrained.list_pretrained", list)
    with pytest.raises(CheckpointError, match="not bundled with this copy.*--model"):
        load_for_editing(None)


@pytest.fixture
def newer_model(standin_dir, tmp_path):
    path = tmp_path / "newer"
    shutil.copytree(standin_dir, path)
    index = json.loads((path / "model_index.json").read_text())
    index["_textedit"]["schema_version"] = 99
    index["_textedit"]["textedit_version"] = "9.0.0"
    (path / "model_index.json").write_text(json.dumps(index))
    return path


def test_a_model_from_a_newer_textedit(newer_model):
    with pytest.raises(
        CheckpointError, match=r"textedit 9.0.0 in save format 99.*pip install -U textedit"
    ):
        textedit.load(newer_model)


# ---------------------------------------------------------------------------- the CLI
def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["edit", "--no-progress", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "name", ["not_an_image.png", "truncated.png", "zero_bytes.png", "huge_20000x20000.png"]
)
def test_cli_refuses_a_bad_image_and_writes_nothing(standin_dir, tmp_path, capsys, name):
    path, _message = write_bad(tmp_path / "in")[name]
    out = tmp_path / "out"
    code, _, err = _cli(
        capsys, "--image", path, "--text", TEXT, "--model", standin_dir, "--out", out
    )
    assert code == 2 and name in err and "textedit edit: error:" in err
    assert not out.exists()


@pytest.mark.parametrize("text, message", BAD_TEXTS)
def test_cli_refuses_a_bad_description_and_writes_nothing(
    standin_dir, tmp_path, capsys, text, message
):
    bird(32).save(tmp_path / "b.png")
    out = tmp_path / "out"
    code, _, err = _cli(
        capsys, "--image", tmp_path / "b.png", "--text", text, "--model", standin_dir, "--out", out
    )
    assert code == 2 and "error:" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "model, message",
    [("nope", "no model 'nope'"), ("NEWER", "pip install -U textedit")],
)
def test_cli_refuses_a_missing_or_newer_model(newer_model, tmp_path, capsys, model, message):
    bird(32).save(tmp_path / "b.png")
    model = newer_model if model == "NEWER" else model
    code, _, err = _cli(
        capsys,
        "--image",
        tmp_path / "b.png",
        "--text",
        TEXT,
        "--model",
        model,
        "--out",
        tmp_path / "o",
    )
    assert code == 1 and message in err
    assert not (tmp_path / "o").exists()


def test_cli_needs_a_description_and_a_readable_descriptions_file(standin_dir, tmp_path, capsys):
    bird(32).save(tmp_path / "b.png")
    code, _, err = _cli(capsys, "--image", tmp_path / "b.png", "--model", standin_dir)
    assert code == 2 and "--text" in err
    (tmp_path / "latin1.txt").write_bytes("un oiseau à tête rouge\n".encode("latin-1"))
    code, _, err = _cli(
        capsys,
        "--image",
        tmp_path / "b.png",
        "--texts",
        tmp_path / "latin1.txt",
        "--model",
        standin_dir,
    )
    assert code == 2 and "not UTF-8" in err
    (tmp_path / "empty.txt").write_text("# only a comment\n\n")
    code, _, err = _cli(
        capsys,
        "--image",
        tmp_path / "b.png",
        "--texts",
        tmp_path / "empty.txt",
        "--model",
        standin_dir,
    )
    assert code == 2 and "no description" in err


def test_folder_run_skips_bad_images_with_a_warning_and_a_count(standin_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    good = write_odd_valid(folder)
    bad = write_bad(folder)
    (folder / "notes.txt").write_text("not an image, ignored by its suffix")
    out = tmp_path / "out"
    code, stdout, err = _cli(
        capsys, "--image", folder, "--text", TEXT, "--model", standin_dir, "--out", out
    )
    assert code == 0
    for name in bad:
        assert (
            f"warning: skipped image {folder / name}" in err
            or f"warning: skipped {folder / name}" in err
        )
    assert f"skipped {len(bad)} of {len(good) + len(bad)} image(s)" in err
    assert "ignored 1 file(s) without an image suffix: notes.txt" in err
    assert f"warning: image {folder / 'tiny_3x2.png'} is 3 x 2 pixels, smaller than the 32 x 32 the model edits" in err
    assert err.count("smaller than the 32 x 32") == 2  # tiny_3x2 and wide_90x30, once each
    assert len(list(out.glob("*__this-bird-has-a-red-head.png"))) == len(good)
    assert f"{len(good)} image(s) × 1 description(s)" in stdout
    assert "Skipped (4)" in (out / "index.html").read_text()


def test_folder_run_with_strict_fails_fast_and_writes_nothing(standin_dir, tmp_path, capsys):
    folder = tmp_path / "in"
    write_odd_valid(folder)
    write_bad(folder)
    out = tmp_path / "out"
    code, _, err = _cli(
        capsys, "--image", folder, "--text", TEXT, "--model", standin_dir, "--out", out, "--strict"
    )
    assert code == 2 and "--strict: nothing was written" in err and "huge_20000x20000.png" in err
    assert not out.exists()


def test_a_folder_of_only_bad_images_is_an_error(standin_dir, tmp_path, capsys):
    write_bad(tmp_path / "in")
    code, _, err = _cli(
        capsys,
        "--image",
        tmp_path / "in",
        "--text",
        TEXT,
        "--model",
        standin_dir,
        "--out",
        tmp_path / "o",
    )
    assert code == 2 and "none of the 4 image(s) could be read" in err
    assert not (tmp_path / "o").exists()


def _unwritable_outs(tmp_path):
    import os

    (tmp_path / "a_file").write_text("x")
    outs = [(tmp_path / "a_file" / "out", "a_file is a file")]
    if os.path.isdir("/proc") and os.name == "posix":
        outs.append((__import__("pathlib").Path("/proc/textedit-out"), "cannot write to --out"))
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        outs += [(locked / "out", "cannot write to --out"), (locked, "cannot write to --out")]
    return outs


def test_cli_refuses_an_unwritable_out_before_loading_the_model(standin_dir, tmp_path, capsys, monkeypatch):
    # used to be a PermissionError traceback (exit 1) after the model had run
    import textedit.editing.loading as loading

    bird(32).save(tmp_path / "b.png")
    loaded = []
    monkeypatch.setattr(loading, "load_for_editing", lambda *a, **k: loaded.append(a))
    for out, message in _unwritable_outs(tmp_path):
        code, _, err = _cli(capsys, "--image", tmp_path / "b.png", "--text", TEXT, "--model", standin_dir, "--out", out)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert loaded == []


def test_cli_turns_a_failed_write_into_a_message(standin_dir, tmp_path, capsys, monkeypatch):
    # a full disk halfway through: a one-line error, not a traceback
    import errno

    import textedit.editing.batch as batch

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "x.png"))

    monkeypatch.setattr(batch, "save_image", full)
    bird(32).save(tmp_path / "b.png")
    code, _, err = _cli(capsys, "--image", tmp_path / "b.png", "--text", TEXT, "--model", standin_dir, "--out", tmp_path / "o")
    assert code == 1 and "No space left on device" in err and "x.png" in err and "Traceback" not in err


def test_cli_refuses_cuda_where_there_is_none(standin_dir, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    bird(32).save(tmp_path / "b.png")
    code, _, err = _cli(
        capsys,
        "--image",
        tmp_path / "b.png",
        "--text",
        TEXT,
        "--model",
        standin_dir,
        "--device",
        "cuda",
        "--out",
        tmp_path / "o",
    )
    assert code == 2 and "CUDA is not available" in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("device", ["gpu", "CPU", "cuda0", "meta"])
def test_cli_refuses_a_device_it_does_not_run_on_before_loading(standin_dir, tmp_path, capsys, device):
    bird(32).save(tmp_path / "b.png")
    code, _, err = _cli(
        capsys, "--image", tmp_path / "b.png", "--text", TEXT, "--model", standin_dir,
        "--device", device, "--out", tmp_path / "o",
    )  # fmt: skip
    assert code == 2 and f"got {device!r}" in err and "'cuda:N' or 'mps'" in err
    assert "damaged" not in err and "Traceback" not in err and not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="device must be"):
        textedit.load(standin_dir, map_location=device)


def test_cli_refuses_a_damaged_gallery_before_writing(standin_dir, tmp_path, capsys):
    bird(32).save(tmp_path / "b.png")
    out = tmp_path / "o"
    out.mkdir()
    (out / "gallery.json").write_text('{"sections": 5}')
    for extra in ([], ["--overwrite"]):
        code, _, err = _cli(
            capsys, "--image", tmp_path / "b.png", "--text", TEXT, "--model", standin_dir, "--out", out, *extra
        )  # fmt: skip
        assert code == 2 and "not a textedit gallery" in err
        assert sorted(p.name for p in out.iterdir()) == ["gallery.json"], "nothing written"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "99999"], "between 0 and 65535"),
        (["--port", "-1"], "between 0 and 65535"),
        (["--max-upload-mb", "nan"], "positive number"),
        (["--max-upload-mb", "inf"], "positive number"),
        (["--max-upload-mb", "0"], "positive number"),
    ],
)
def test_serve_refuses_bad_options_before_loading_the_model(capsys, monkeypatch, args, message):
    def no_loading(*a, **k):
        raise AssertionError("the model must not load for bad options")

    monkeypatch.setattr("textedit.editing.loading.load_for_editing", no_loading)
    code = main(["serve", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_tensors_of_other_float_types_are_edited_and_empty_batches_refused(standin):
    import torch

    image = torch.rand(1, 3, standin.image_size, standin.image_size) * 2 - 1
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        x = image.to(dtype)
        expected = standin.edit(x.float(), TEXT).fine
        assert torch.equal(standin.edit(x, TEXT).fine, expected), dtype
    with pytest.raises(InputError, match="empty batch"):
        standin.edit(image[:0], TEXT)


@pytest.mark.parametrize("texts", [None, 5, b"a red head"])
def test_descriptions_that_are_not_strings_are_refused(standin, texts):
    with pytest.raises(InputError, match="a string or a list of strings"):
        standin.edit(bird(32), texts)


def test_a_pil_image_is_read_as_its_file_is(standin, tmp_path):
    """EXIF orientation is applied to a PIL image as to a path; a truncated or closed PIL
    image gives an InputError."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown turned by 90 degrees
    path = tmp_path / "turned.jpg"
    bird(48).resize((60, 40)).save(path, exif=exif)
    from_path = standin.edit(path, TEXT)
    with Image.open(path) as opened:
        from_pil = standin.edit(opened, TEXT)
    assert from_path.originals[0].size == from_pil.originals[0].size == (40, 60)
    assert (from_path.inputs - from_pil.inputs).abs().max() == 0
    data = (tmp_path / "turned.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) - 300])  # the header whole, pixels cut
    with Image.open(tmp_path / "cut.jpg") as cut, pytest.raises(InputError, match="cut.jpg.*truncated"):
        standin.edit(cut, TEXT)
    closed = Image.open(path)
    closed.close()
    with pytest.raises(InputError, match="closed"):
        standin.edit(closed, TEXT)


def test_saving_a_result_into_a_folder_name_is_refused(standin, tmp_path):
    result = standin.edit(bird(32), TEXT)
    with pytest.raises(InputError, match="is a folder; give a file name"):
        result.save(tmp_path)


def test_descriptions_may_come_in_any_iterable(standin):
    import numpy as np
    import torch

    image = bird(32)
    expected = standin.edit(image, [TEXT]).fine
    for texts in (np.array([TEXT]), (t for t in [TEXT]), {TEXT: 1}.keys()):
        assert torch.equal(standin.edit(image, texts).fine, expected)


def test_a_pil_image_turned_by_the_caller_is_not_turned_again(standin, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.jpg"
    bird(48).resize((60, 40)).save(path, exif=exif)
    with Image.open(path) as opened:
        turned = opened.transpose(Image.Transpose.ROTATE_270)  # what exif_transpose would do
    assert turned.getexif().get(0x0112) == 6, "PIL keeps the tag on the turned copy"
    assert standin.edit(turned, TEXT).originals[0].size == (40, 60)


def test_a_training_run_without_its_model_says_to_resume_it(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(CheckpointError, match=r"has not finished.*textedit train --resume"):
        textedit.load(tmp_path / "run")


def test_mps_where_there_is_none(standin_dir):
    import torch

    if torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(InputError, match=r"device mps: Apple's Metal \(MPS\) is not available here"):
        textedit.load(standin_dir, map_location="mps")
