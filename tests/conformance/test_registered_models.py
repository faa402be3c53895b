"""Every registered model, built-in or plug-in, passes the model conformance kit; every
preset resolves to a registered model."""

from __future__ import annotations

import pytest

import textedit
from textedit.registry.kinds import MODEL_KIND, get_registry
from textedit.registry.presets import Preset
from textedit.testing import registered_models, run_model_conformance

MODELS = registered_models()
PRESETS = [n for n in textedit.list_models() if isinstance(get_registry(MODEL_KIND).get(n), Preset)]


def test_the_papers_models_are_registered():
    assert {"mimnet", "tagan", "sisgan", "manigan"} <= set(MODELS)
    assert "damsm" in textedit.list_models() and "damsm" not in MODELS  # not an editing model
    assert {"mimnet_64", "mimnet_128", "tagan_64", "tagan_128", "sisgan_64", "sisgan_128",
            "manigan_64", "manigan_256"} <= set(PRESETS)


@pytest.mark.parametrize("name", MODELS)
def test_model_conformance(name, tmp_path):
    run_model_conformance(name, workdir=tmp_path)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_resolves_to_a_model_with_a_recipe(name):
    preset = get_registry(MODEL_KIND).get(name)
    assert isinstance(preset, Preset)
    composition, config = textedit.registry.resolve_model_config(name)
    assert composition.__name__ and config.image_size > 0
    assert composition.default_recipe in textedit.registry.list_recipes()


def test_a_model_that_breaks_the_contract_fails_the_kit(monkeypatch):
    from textedit.models.sisgan import SISGAN
    from textedit.testing import ConformanceError

    monkeypatch.setattr(SISGAN, "edit_tensors", lambda self, images, tokens: images)
    with pytest.raises(ConformanceError, match="EditOutput"):
        run_model_conformance("sisgan", checks=["contract"])


def test_a_preset_is_checked_with_its_own_components():
    # A plug-in preset that puts its own (here: broken) localizer into MIM-Net must fail the
    # kit, which builds the preset's components rather than the composition's example config.
    from textedit.components.localizer.tlu import TLULocalizer
    from textedit.testing import TINY_MIMNET, ConformanceError

    class Inverted(TLULocalizer):
        def forward(self, coarse, original, texture):
            out = super().forward(coarse, original, texture)
            return type(out)(out.weights - 2, out.fused)  # weights leave [0, 1]

    registry = get_registry(MODEL_KIND)
    get_registry("localizer").add("inverted_tlu", Inverted)
    preset = textedit.register_preset(Preset(
        "tiny_inverted", "mimnet", {**{k: v for k, v in TINY_MIMNET.items() if k != "type"},
                                    "localizer": {"type": "inverted_tlu"}},
    ))
    try:
        run_model_conformance("mimnet", checks=["contract"])  # the composition itself passes
        with pytest.raises(ConformanceError, match=r"'tiny_inverted' fails 'contract'.*localization"):
            run_model_conformance(preset.name, checks=["contract"])
    finally:
        registry.unregister(preset.name)
        get_registry("localizer").unregister("inverted_tlu")
