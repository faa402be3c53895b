"""``model.edit``: paths, PIL images and tensors in; an EditResult with explanations out."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from editing_fixtures import bird, write_odd_valid
from PIL import Image

import textedit
from textedit.editing import EditResult, EditWarning
from textedit.interfaces import EditOutput

TEXT = "this bird has a red head and white wings"


def test_edit_a_path_gives_a_result_with_every_explanation(standin, tmp_path):
    bird(48).save(tmp_path / "b.png")
    result = standin.edit(tmp_path / "b.png", TEXT)
    assert isinstance(result, EditResult) and isinstance(result, EditOutput)
    assert len(result) == 1
    assert result.image.size == (32, 32) and result.image.mode == "RGB"
    assert result.fine.shape == (1, 3, 32, 32) and result.coarse.shape == (1, 3, 16, 16)
    assert result.inputs.shape == (1, 3, 32, 32)
    assert (
        result.boundary.shape == (1, 1, 32, 32)
        and 0 <= result.boundary.min() <= result.boundary.max() <= 1
    )
    assert result.localization.shape[:2] == (1, 1)
    assert result.words == [tuple(TEXT.split())]
    assert result.word_attention.shape[:2] == (1, len(TEXT.split()))
    assert result.unknown_words == [()] and result.truncated == [False]
    assert result.sources == [str(tmp_path / "b.png")] and result.texts == (TEXT,)


def test_path_pil_and_tensor_give_the_same_edit(standin, tmp_path):
    picture = bird(32)
    picture.save(tmp_path / "b.png")
    tensor = torch.from_numpy(np.asarray(picture).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    a = standin.edit(tmp_path / "b.png", TEXT).fine
    b = standin.edit(picture, TEXT).fine
    c = standin.edit(tensor, TEXT).fine
    assert torch.equal(a, b)
    torch.testing.assert_close(b, c, atol=1e-5, rtol=0)  # memory layouts may reorder float sums


def test_lists_and_broadcasting(standin):
    pictures = [bird(40, seed) for seed in range(3)]
    assert len(standin.edit(pictures, TEXT)) == 3
    assert len(standin.edit(pictures, ["a red bird", "a blue bird", "a green bird"])) == 3
    many = standin.edit(pictures[0], ["a red bird", "a blue bird"])
    assert len(many) == 2 and torch.equal(many.inputs[0], many.inputs[1])
    assert [p.size for p in many.pil_images] == [(32, 32), (32, 32)]


def test_odd_but_valid_images_are_edited(standin, tmp_path):
    files = write_odd_valid(tmp_path)
    with pytest.warns(UserWarning) as caught:
        result = standin.edit(list(files.values()), TEXT)
    assert len(result) == len(files) and torch.isfinite(result.fine).all()
    # the images smaller than the model's 32 px are named (scaled up), each once, at this line
    assert sorted(str(w.message).split(" is ")[0].rsplit("/", 1)[-1] for w in caught) == ["tiny_3x2.png", "wide_90x30.png"]
    assert "is 3 x 2 pixels, smaller than the 32 x 32 the model edits" in str(caught[0].message) + str(caught[1].message)
    assert {w.filename for w in caught} == {__file__}


def test_odd_pil_modes_are_edited(standin):
    base = bird(40)
    for image in (
        base.convert("L"),
        base.convert("RGBA"),
        base.convert("CMYK"),
        base.convert("P"),
        base.convert("1"),
    ):
        assert standin.edit(image, TEXT).image.size == (32, 32)


def test_explain_draws_a_figure(standin):
    result = standin.edit(bird(40), TEXT)
    figure = result.explain()
    assert isinstance(figure, Image.Image) and figure.mode == "RGB"
    assert figure.width >= 5 * 128 and figure.height > 128 * 2  # 5 panels + the word maps
    details = result.explanation(0)
    assert details.words == tuple(TEXT.split()) and details.localization is not None


def test_explain_marks_unknown_and_non_ascii_words(standin):
    with pytest.warns(EditWarning, match="zwölf"):
        result = standin.edit(bird(40), "this bird has a red head and zwölf wings")
    assert result.unknown_words == [("zwölf",)]
    assert result.explain().width > 0


def test_save_writes_atomically_and_respects_overwrite(standin, tmp_path):
    result = standin.edit(bird(40), TEXT)
    path = result.save(tmp_path / "edit.png")
    assert Image.open(path).size == (32, 32)
    with pytest.raises(FileExistsError):
        result.save(path, overwrite=False)
    result.save(tmp_path / "edit.jpg")
    assert Image.open(tmp_path / "edit.jpg").format == "JPEG"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_keep_size_returns_the_original_size(standin):
    original = bird(40).resize((90, 40))
    result = standin.edit(original, TEXT)
    for mode in ("difference", "mask"):
        full = result.at_original_size(mode=mode)
        assert full.size == (90, 40)
        # the model saw the centre 40x40 square: the rest is the original, exactly
        assert np.array_equal(np.asarray(full)[:, :25], np.asarray(original)[:, :25])
        assert np.array_equal(np.asarray(full)[:, 65:], np.asarray(original)[:, 65:])


def test_tensor_inputs_have_no_original(standin):
    result = standin.edit(torch.zeros(1, 3, 32, 32), TEXT)
    with pytest.raises(textedit.InputError, match="tensor"):
        result.at_original_size()


def test_edit_keeps_the_training_mode_and_trainer_fields(standin):
    standin.train()
    try:
        out = standin.edit(torch.zeros(2, 3, 32, 32), ["a red bird", "a blue bird"])
        assert standin.training
    finally:
        standin.eval()
    assert not out.fine.requires_grad
    assert out.coarse is out.images[0] and out.fine is out.images[-1]  # samples.py reads these


def test_load_a_saved_model_and_edit(standin_dir):
    model = textedit.load(standin_dir)
    assert not any(m.training for m in model.modules()), "loaded for use: eval mode"
    assert model.edit(bird(40), TEXT).image.size == (32, 32)
    assert not textedit.load_component(standin_dir / "localizer").training
