"""TAGAN, SISGAN, ManiGAN, AttnGAN and StackGAN++ train by their shipped configs through the
generic trainer: they train, resume exactly, export, and the exported model edits through
``textedit edit`` (draws through ``textedit generate``)."""

from __future__ import annotations

import pytest
import torch
import yaml

import textedit
from textedit.training.checkpoint import latest_checkpoint, load_checkpoint
from textedit.training.config import TrainConfig, find_config
from textedit.training.trainer import Trainer

#: each shipped config's model narrowed to a few channels, for a run of seconds
TINY = {
    "tagan": {"text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
              "generator": {"condition_dim": 8, "base_channels": 4, "max_channels": 16, "num_residual_blocks": 1},
              "discriminator": {"base_channels": 4, "max_channels": 8, "hidden_dim": 4}},
    "sisgan": {"text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
               "generator": {"condition_dim": 8, "base_channels": 4, "max_channels": 16, "num_residual_blocks": 1},
               "discriminator": {"condition_dim": 8, "base_channels": 4, "max_channels": 16}},
    "manigan": {"text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
                "generator": {"condition_dim": 8, "noise_dim": 4, "base_channels": 4, "image_feature_dim": 8,
                              "acm_channels": 4, "num_residual_blocks": 1},
                "discriminator": {"base_channels": 4, "max_channels": 8}},
    **{name: {"text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
              "generator": {"condition_dim": 8, "noise_dim": 4, "base_channels": 4, "num_residual_blocks": 1},
              "discriminator": {"base_channels": 4, "max_channels": 8}} for name in ("attngan", "stackgan")},
    "gan_int_cls": {"text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
                    "generator": {"condition_dim": 8, "noise_dim": 4, "base_channels": 4, "max_channels": 16},
                    "discriminator": {"condition_dim": 8, "base_channels": 4, "max_channels": 16}},
}
CONFIGS = [
    "tagan64_birds", "sisgan64_birds", "manigan64_birds",
    "tagan64_birds_paired", "sisgan64_birds_paired", "manigan64_birds_paired",
    "attngan64_birds", "stackgan64_birds", "gan_int_cls64_birds",
    "attngan64_birds_damsm", "stackgan64_birds_damsm", "gan_int_cls64_birds_damsm",
]
NAMES = {"tagan": "TAGAN", "sisgan": "SISGAN", "manigan": "ManiGAN", "attngan": "AttnGAN", "stackgan": "StackGAN",
         "gan_int_cls": "GANINTCLS"}


def tiny_damsm(folder):
    """A tiny DAMSM saved in ``folder`` (once), for the configs whose text encoder is a
    DAMSM's, frozen."""
    from textedit.models.damsm import DAMSM, DAMSMConfig

    if not folder.is_dir():
        DAMSM(DAMSMConfig(
            feature_dim=8,
            text_encoder={"type": "bilstm", "vocabulary": ["a", "bird", "with", "red", "head", "wings"], "embedding_dim": 8},
            image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
        )).save_pretrained(folder)
    return str(folder)


def shipped(name, out, **fields):
    data = yaml.safe_load(find_config(name).read_text())
    family = name.split("64")[0]
    tiny = dict(TINY[family])
    if data["model"]["text_encoder"].get("type") == "frozen":  # the *_damsm configs
        damsm = tiny_damsm(out.parent / "damsm")
        tiny["text_encoder"] = {"source": damsm}
        if data["recipe"].get("damsm"):
            data["recipe"]["damsm"] = damsm
    model = {**data["model"], **{k: {**data["model"].get(k, {}), **v} for k, v in tiny.items()}}
    data.update(model=model, output_dir=str(out), steps=2, checkpoint_every=1, sample_every=2, log_every=1,
                num_samples=2, threads=1, device="cpu", mixed_precision="no")
    assert data["data"]["num_workers"] == 1  # shipped: drawing beside the training thread
    # in the main process here: workers and exact resume are tested in test_trainer.py
    data["data"] = {**data["data"], "num_images": 12, "num_workers": 0}
    data.update(fields)
    return TrainConfig.model_validate(data)


def _weights(run):
    return load_checkpoint(latest_checkpoint(run / "checkpoints"))["model"]


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_config_trains_resumes_exactly_and_exports(name, tmp_path):
    config = shipped(name, tmp_path / "whole")
    assert config.recipe.type == name.split("64")[0]
    if name.endswith("_damsm"):
        assert config.model["text_encoder"]["type"] == "frozen"
    whole = Trainer(config, progress=False)
    exported = whole.train()
    part = Trainer(shipped(name, tmp_path / "part"), progress=False)
    assert part.train(max_steps=1) is None
    resumed = Trainer(shipped(name, tmp_path / "part"), resume=True, progress=False)
    resumed.train()
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "part")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    model = textedit.load(exported)
    assert type(model).__name__ == NAMES[name.split("64")[0]]
    if isinstance(model, textedit.GeneratingModel):
        assert model.generate("a bird with a red head", num_images=2).fine.shape == (2, 3, 64, 64)
        assert (tmp_path / "whole" / "samples").is_dir() and any((tmp_path / "whole" / "samples").glob("*.png"))
    else:
        assert model.edit(torch.zeros(1, 3, 64, 64), "a bird with a red head").fine.shape == (1, 3, 64, 64)
    if name.endswith("paired"):
        metrics = [line for line in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
        assert all('"true_edit_l1"' in line and '"edit_region_l1"' in line for line in metrics)


def test_textedit_edit_with_a_trained_tagan(tmp_path, capsys):
    from textedit.cli import main

    exported = Trainer(shipped("tagan64_birds", tmp_path / "run"), progress=False).train()
    code = main(["edit", "--model", str(exported), "--image", "examples/images/bird_64.png",
                 "--text", "a bird with a red head", "--out", str(tmp_path / "out"), "--explain"])
    assert code == 0, capsys.readouterr().err
    assert len(list((tmp_path / "out").glob("*.png"))) >= 1


def test_a_recipe_refuses_another_model(tmp_path):
    with pytest.raises(textedit.TextEditError, match="TAGANRecipe trains TAGAN models, not a SISGAN"):
        Trainer(shipped("sisgan64_birds", tmp_path / "run", recipe={"type": "tagan"}), progress=False)


@pytest.mark.parametrize(("config", "discriminator", "message"), [
    ("tagan64_birds", {"type": "sisgan", "condition_dim": 8, "base_channels": 4, "max_channels": 16},
     "TAGANRecipe reads the discriminator's reality and conformity scores, and SISGANDiscriminator gives matching"),
    ("sisgan64_birds", {"type": "tagan", "base_channels": 4, "max_channels": 8, "hidden_dim": 4},
     "SISGANRecipe reads the discriminator's matching scores, and TAGANDiscriminator gives reality and conformity"),
])
def test_a_recipe_refuses_a_discriminator_without_its_scores_when_built(tmp_path, config, discriminator, message):
    model = shipped(config, tmp_path / "run").model
    with pytest.raises(textedit.TextEditError, match=message):
        Trainer(shipped(config, tmp_path / "run", model={**model, "discriminator": discriminator}), progress=False)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_the_discriminator_probe_runs_eagerly_when_compiled():
    """The probe of a recipe's discriminator scores does not trigger a compilation."""
    from textedit.models.mimnet.recipe import MIMNetRecipe
    from textedit.testing import TINY_MIMNET

    compiled = []
    model = textedit.create_model(TINY_MIMNET)
    model.discriminator.compile(backend=lambda graph, inputs: compiled.append(graph) or graph.forward)
    MIMNetRecipe(MIMNetRecipe.config_class(), model, context=None)
    assert compiled == []
    with torch.no_grad():
        model.discriminator(**model.discriminator.example_inputs())
    assert compiled, "the backend counts compilations"


def test_an_unknown_recipe_lists_the_registered_ones(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="(?s)recipe.type.*unknown recipe 'dcgan'.*attngan, gan_int_cls, manigan, mimnet, sisgan, stackgan, tagan"):
        shipped("sisgan64_birds", tmp_path / "run", recipe={"type": "dcgan"})


def test_manigan_adds_the_frozen_damsm_matching_loss(tmp_path):
    from textedit.models.damsm import DAMSM, DAMSMConfig
    from textedit.text.description_words import DESCRIPTION_SYNONYMS, DESCRIPTION_WORDS

    damsm = DAMSM(DAMSMConfig(
        feature_dim=8,
        text_encoder={"type": "bilstm", "vocabulary": list(DESCRIPTION_WORDS), "synonyms": dict(DESCRIPTION_SYNONYMS),
                      "embedding_dim": 8, "max_words": 32},
        image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
    ))
    damsm.save_pretrained(tmp_path / "damsm")
    before = {k: v.clone() for k, v in damsm.state_dict().items()}
    config = shipped("manigan64_birds", tmp_path / "run", recipe={"type": "manigan", "damsm": str(tmp_path / "damsm")})
    trainer = Trainer(config, progress=False)
    trainer.train()
    metrics = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert metrics and all('"damsm"' in line for line in metrics)
    frozen = trainer.recipe.damsm.state_dict()
    assert all(torch.equal(frozen[k].cpu(), v) for k, v in before.items())  # trained nothing
    with pytest.raises(textedit.TextEditError, match="recipe.damsm: .* is not a folder.*train-damsm"):
        Trainer(shipped("manigan64_birds", tmp_path / "r2", recipe={"type": "manigan", "damsm": str(tmp_path / "none")}),
                progress=False)
