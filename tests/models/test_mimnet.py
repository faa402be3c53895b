"""The MIM-Net composition: wiring, trainer methods, edit, save/load, presets."""

from __future__ import annotations

import pytest
import torch

import textedit
from textedit.errors import InputError
from textedit.interfaces import DiscriminatorOutput, GeneratorOutput
from textedit.models import MIMNet

TEXTS = ["a small bird with red wings", "a yellow bird with a blue head"]


@pytest.fixture
def model(tiny_config) -> MIMNet:
    return MIMNet(tiny_config())


def _image(b=2, size=16, seed=0):
    return torch.rand(b, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_widths_are_wired_from_slot_to_slot(model):
    cfg = model.config
    assert cfg.memory_bank.config.word_dim == 12 == model.text_encoder.word_dim
    assert cfg.generator.config.texture_dim == 4 and cfg.localizer.config.texture_dim == 4
    assert cfg.generator.config.word_dim == 12 and cfg.discriminator.config.word_dim == 12
    assert cfg.generator.config.image_size == 16
    assert cfg.structure_extractor.config.reduction == 4
    assert cfg.generator.config.structure_channels == 4
    assert cfg.localizer.config.channels == 8
    assert cfg.discriminator.config.stage_sizes == (8, 16)


def test_one_config_change_swaps_the_text_encoder_width(tiny_config):
    wide = MIMNet(tiny_config(text_encoder={**tiny_config()["text_encoder"], "hidden_dim": 10}))
    assert wide.memory_bank.word_dim == wide.discriminator.word_dim == 20
    assert wide.edit(_image(), TEXTS).fine.shape == (2, 3, 16, 16)


def test_one_config_change_swaps_the_localizer(tiny_config):
    variant = textedit.create_model(
        {"type": "mimnet", **tiny_config()}, localizer={"type": "everywhere"}
    )
    out = variant.edit(_image(), TEXTS)
    assert torch.equal(out.localization, torch.ones(2, 1, 4, 4))
    assert variant.localizer.config.channels == 8


def test_with_components_shares_the_rest(model):
    from textedit.components.localizer.everywhere import EverywhereLocalizer

    variant = model.with_components(localizer=EverywhereLocalizer(dict(channels=8, texture_dim=4)))
    assert variant.generator is model.generator
    assert variant.config.localizer.type == "everywhere"


def test_with_components_refuses_a_component_of_the_wrong_width(model):
    """A width the other slots wire in is checked when the variant is made, not at its
    first forward pass (a matmul error naming neither the slot nor the width)."""
    from textedit import ConfigError
    from textedit.components.localizer.tlu import TLULocalizer

    with pytest.raises(ConfigError, match=r"localizer: the TLULocalizer given or kept for this slot has channels=5 where the other slots need 8"):
        model.with_components(localizer=TLULocalizer(dict(channels=5, texture_dim=4)))


def test_trainer_methods(model):
    image = _image()
    tokens = model.tokenize(TEXTS)
    text = model.encode_text(tokens)
    rec = model.reconstruct(image, tokens)
    assert isinstance(rec, GeneratorOutput)
    assert rec.memory_attention.shape == (2, tokens.ids.shape[1], 5)
    assert rec.aux["texture_feature"].shape == rec.aux["localized_feature"].shape == (2, 8)
    man = model.manipulate(image, text.select([1, 0]))
    assert [i.shape[-1] for i in man.images] == [8, 16]
    g1 = model.random_memory_pass(image, text, generator=torch.Generator().manual_seed(1))
    g2 = model.random_memory_pass(image, text, generator=torch.Generator().manual_seed(1))
    model.eval()
    with torch.no_grad():
        a = model.random_memory_pass(image, text, generator=torch.Generator().manual_seed(1))
        b = model.random_memory_pass(image, text, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a.fine, b.fine)
    assert g1.fine.shape == g2.fine.shape
    real = model.stage_images(image)
    assert [r.shape[-1] for r in real] == [8, 16]
    scores = model.discriminate(real, text)
    assert isinstance(scores, DiscriminatorOutput) and len(scores.conformity) == 2
    assert model.discriminate(man.images).conformity is None


def test_losses_backpropagate_to_the_memories(model):
    image = _image()
    out = model.reconstruct(image, model.tokenize(TEXTS))
    loss = sum((o - t).abs().mean() for o, t in zip(out.images, model.stage_images(image)))
    loss = loss + (out.aux["texture_feature"] - out.aux["localized_feature"].detach()).abs().mean()
    loss.backward()
    assert model.memory_bank.slots.grad.abs().sum() > 0
    assert model.text_encoder.embedding.weight.grad.abs().sum() > 0


def test_edit_is_eval_and_no_grad_and_restores_the_mode(model):
    model.train()
    out = model.edit(_image(), TEXTS)
    assert model.training and not out.fine.requires_grad
    torch.testing.assert_close(out.fine, model.edit(_image(), TEXTS).fine)
    assert model.edit(_image(3), "a red bird").fine.shape == (3, 3, 16, 16)


@pytest.mark.parametrize(
    ("image", "texts", "match"),
    [
        (torch.zeros(1, 3, 32, 32), ["a bird"], r"\(b, 3, 16, 16\)"),
        (torch.zeros(3, 16, 16), ["a bird"], r"\(b, 3, 16, 16\)"),
        (torch.full((1, 3, 16, 16), 200.0), ["a bird"], r"x / 127.5 - 1"),
        (torch.zeros(1, 3, 16, 16, dtype=torch.uint8), ["a bird"], "floating point"),
        (torch.zeros(2, 3, 16, 16), ["a", "b", "c"], "one description per image"),
        (torch.zeros(1, 3, 16, 16), [""], "no words"),
    ],
)
def test_edit_rejects_bad_inputs_with_a_fix(model, image, texts, match):
    with pytest.raises(InputError, match=match):
        model.edit(image, texts)


def test_save_and_reload_give_identical_outputs(model, tmp_path):
    model.eval()
    before = model.edit(_image(), TEXTS)
    model.save_pretrained(tmp_path / "m")
    loaded = textedit.load_composition(tmp_path / "m")
    assert isinstance(loaded, MIMNet) and loaded.config == model.config
    after = loaded.edit(_image(), TEXTS)
    for a, b in zip(before.images, after.images):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", ["mimnet_64", "mimnet_128", "mimnet_256"])
def test_presets_build_and_edit(name):
    model = textedit.create_model(name)
    size = model.image_size
    assert size == int(name.split("_")[1])
    assert model.text_encoder.vocabulary.words[:3] == ["a", "an", "the"]
    out = model.edit(_image(1, size), "this bird has a red head and white wings")
    assert [i.shape[-1] for i in out.images] == [size // 2, size]
    assert out.fine.abs().max() <= 1


def test_preset_roundtrip(tmp_path):
    model = textedit.create_model("mimnet_64").eval()
    before = model.edit(_image(2, 64), TEXTS)
    model.save_pretrained(tmp_path / "m")
    loaded = MIMNet.from_pretrained(tmp_path / "m")
    assert torch.equal(before.fine, loaded.edit(_image(2, 64), TEXTS).fine)


def test_preset_vocabulary_is_replaceable():
    model = textedit.create_model("mimnet_64", text_encoder={"vocabulary": ["zebra", "stripes"]})
    assert model.text_encoder.vocabulary.words == ["zebra", "stripes"]
    assert int(model.tokenize(["zebra stripes"]).unknown[0]) == 0


def test_a_component_swapped_in_takes_the_models_dtype_and_mode():
    import textedit
    from textedit.testing import TINY_MIMNET

    base = textedit.create_model(TINY_MIMNET).double().eval()
    fresh = textedit.create_localizer(
        {"type": "tlu", "channels": base.localizer.channels, "texture_dim": base.localizer.texture_dim})
    assert {p.dtype for p in fresh.parameters()} == {torch.float32} and fresh.training
    variant = base.with_components(localizer=fresh)
    assert {p.dtype for p in variant.parameters()} == {torch.float64} and not variant.training
    out = variant.edit(torch.rand(1, 3, 64, 64) * 2 - 1, "a red bird", allow_unknown=True)
    assert out.fine.shape == (1, 3, 64, 64)


def test_a_generator_of_another_kind_is_refused_or_named_when_built():
    from textedit.testing import TINY_MIMNET

    with pytest.raises(textedit.TextEditError, match=r"AttnGAN draws from text and noise alone, and its generator TAGANGenerator edits"):
        textedit.create_model("attngan_64", generator={"type": "tagan"})
    with pytest.raises(textedit.TextEditError, match=r"TAGAN edits an input image, and its generator AttnGANGenerator draws"):
        textedit.create_model("tagan_64", generator={"type": "attngan"})
    with pytest.raises(textedit.TextEditError, match=r"AttnGAN's generator AttnGANGenerator draws stages of sizes \[16, 32, 64\] and its discriminator SISGANDiscriminator judges \[64\]"):
        textedit.create_model("attngan_64", discriminator={"type": "sisgan"})
    with pytest.warns(UserWarning, match=r"MIM-Net's generator TAGANGenerator does not read its memory_bank, structure_extractor, localizer") as record:
        textedit.create_model(TINY_MIMNET, generator={"type": "tagan"})
    assert record[0].filename == __file__
