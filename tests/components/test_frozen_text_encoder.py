"""The ``frozen`` text encoder: a trained text encoder read from a saved model (a DAMSM's),
frozen in training, saved with the model that holds it."""

from __future__ import annotations

import shutil

import pytest
import torch

import textedit
from textedit.components.text_encoder.frozen import FrozenTextEncoder
from textedit.errors import CheckpointError, ConfigError
from textedit.models import AttnGAN
from textedit.models.damsm import DAMSM, DAMSMConfig
from textedit.registry.api import create_component
from textedit.testing import TINY_MIMNET

TEXTS = ["a red bird", "this bird has a red head"]


@pytest.fixture()
def damsm_dir(tmp_path):
    torch.manual_seed(0)
    damsm = DAMSM(DAMSMConfig(
        feature_dim=8,
        text_encoder={"type": "bilstm", "vocabulary": ["bird", "red", "head"], "embedding_dim": 8, "dropout": 0.5},
        image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
    ))
    damsm.save_pretrained(tmp_path / "damsm")
    return tmp_path / "damsm"


def _frozen(source) -> FrozenTextEncoder:
    return create_component("text_encoder", {"type": "frozen", "source": str(source)})


def test_it_encodes_as_the_trained_encoder_reads_in_eval_mode(damsm_dir, tmp_path):
    damsm = DAMSM.from_pretrained(damsm_dir)
    expected = damsm.encode_texts(TEXTS)
    run = tmp_path / "run"  # a train-damsm run folder holds the model in model/
    shutil.copytree(damsm_dir, run / "model")
    damsm.text_encoder.save_pretrained(tmp_path / "component")
    for source in (damsm_dir, run, tmp_path / "component"):
        encoder = _frozen(source).train()  # training mode outside, eval inside: no dropout
        assert encoder.training and not encoder.encoder.training
        got = encoder.encode(TEXTS)
        torch.testing.assert_close(got.words, expected.words, rtol=0, atol=0)
        torch.testing.assert_close(got.sentence, expected.sentence, rtol=0, atol=0)
        assert encoder.word_dim == encoder.sentence_dim == 8
        assert not got.words.requires_grad and encoder.num_parameters(trainable_only=True) == 0
        assert encoder.config.encoder["vocabulary"] == ["bird", "red", "head"]  # recorded for saving


def test_a_saved_model_holds_the_encoder_and_loads_without_its_source(damsm_dir, tmp_path):
    spec = {**AttnGAN.example_config().to_dict(), "text_encoder": {"type": "frozen", "source": str(damsm_dir)}}
    model = AttnGAN.from_config(AttnGAN.config_class.model_validate(spec)).eval()
    assert model.num_parameters(trainable_only=True) < model.num_parameters()
    model.save_pretrained(tmp_path / "attngan")
    before = model.generate("red bird head", seed=3).fine
    shutil.rmtree(damsm_dir)
    loaded = textedit.load(tmp_path / "attngan")
    assert isinstance(loaded.text_encoder, FrozenTextEncoder)
    assert loaded.text_encoder.num_parameters(trainable_only=True) == 0
    torch.testing.assert_close(loaded.generate("red bird head", seed=3).fine, before, rtol=0, atol=0)


def test_training_leaves_it_unchanged_and_out_of_every_optimiser(damsm_dir, tmp_path):
    from textedit.training.config import TrainConfig
    from textedit.training.trainer import Trainer

    model = {**AttnGAN.example_config().to_dict(), "type": "attngan",
             "text_encoder": {"type": "frozen", "source": str(damsm_dir)}}
    trainer = Trainer(TrainConfig.model_validate({
        "model": model, "recipe": {"type": "attngan", "damsm": str(damsm_dir)},
        "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 2, "ema_decay": 0.9, "output_dir": str(tmp_path / "run"), "device": "cpu",
    }), progress=False)
    frozen = {id(p) for p in trainer.model.text_encoder.parameters()}
    assert frozen and not any(id(p) in frozen for ps in trainer.groups.values() for p in ps)
    assert not any(id(p) in frozen for p in trainer.ema_params)
    text_before = {k: v.clone() for k, v in trainer.model.text_encoder.state_dict().items()}
    gen_before = [p.detach().clone() for p in trainer.model.generator.parameters()]
    exported = trainer.train()
    for key, value in trainer.model.text_encoder.state_dict().items():
        torch.testing.assert_close(value, text_before[key], rtol=0, atol=0, msg=key)
    assert any(not torch.equal(a, b) for a, b in zip(gen_before, trainer.model.generator.parameters()))
    assert isinstance(textedit.load(exported).text_encoder, FrozenTextEncoder)


def test_bad_sources_are_refused_clearly(damsm_dir, tmp_path):
    with pytest.raises(ConfigError, match="text_encoder.source: .*needs source.*textedit train-damsm"):
        create_component("text_encoder", {"type": "frozen"})
    with pytest.raises(ConfigError, match="text_encoder.source: .* is not a folder.*textedit train-damsm"):
        _frozen(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no saved model or component"):
        _frozen(tmp_path / "empty")
    shutil.rmtree(damsm_dir / "text_encoder")
    with pytest.raises(ConfigError, match="has no text_encoder slot"):
        _frozen(damsm_dir)
    DAMSM.from_config(DAMSM.example_config()).image_encoder.save_pretrained(tmp_path / "image")
    with pytest.raises(CheckpointError, match="holds a image_encoder, not a text_encoder"):
        _frozen(tmp_path / "image")


def test_a_training_config_names_the_source_by_its_path_in_the_run(tmp_path):
    from textedit.training import Trainer, TrainConfig

    config = TrainConfig.model_validate({
        "model": {**TINY_MIMNET, "text_encoder": {"type": "frozen", "source": str(tmp_path / "missing")}},
        "data": {"type": "synthetic", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 1, "output_dir": str(tmp_path / "run"), "device": "cpu",
    })
    with pytest.raises(ConfigError, match=r"\n  model\.text_encoder\.source: .* is not a folder"):
        Trainer(config, progress=False)


def test_a_checkpoint_whose_optimiser_or_ema_holds_other_parameters_is_refused_clearly(damsm_dir, tmp_path):
    """A run resumed from a checkpoint written when frozen parameters were still in the
    optimisers and the EMA (or by another config) stops with what to do, not a shape error."""
    from textedit.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
    from textedit.training.config import TrainConfig
    from textedit.training.trainer import Trainer

    config = TrainConfig.model_validate({
        "model": {**AttnGAN.example_config().to_dict(), "type": "attngan",
                  "text_encoder": {"type": "frozen", "source": str(damsm_dir)}},
        "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 2, "checkpoint_every": 1, "ema_decay": 0.9,
        "output_dir": str(tmp_path / "run"), "device": "cpu",
    })
    Trainer(config, progress=False).train(max_steps=1)
    path = latest_checkpoint(tmp_path / "run" / "checkpoints")
    state = load_checkpoint(path)
    frozen = [torch.zeros(1)]  # as if the frozen text encoder's weights were averaged too
    longer_ema = {k: v for k, v in state.items() if k not in ("format", "step")}
    save_checkpoint(path.parent, 1, {**longer_ema, "ema": state["ema"] + frozen})
    with pytest.raises(textedit.TextEditError, match="EMA averages .* parameters, this run"):
        Trainer(config, resume=True, progress=False)
    group = state["optimizers"]["generator"]
    extra = {**group, "param_groups": [{**g, "params": g["params"] + [10_000]} for g in group["param_groups"]]}
    save_checkpoint(path.parent, 1, {**longer_ema, "optimizers": {**state["optimizers"], "generator": extra}})
    with pytest.raises(textedit.TextEditError, match="optimiser state for parameter group 'generator' does not fit"):
        Trainer(config, resume=True, progress=False)


def test_a_resumed_run_keeps_the_encoder_it_started_with_when_the_source_changes(damsm_dir, tmp_path):
    """The source is read when a run starts; a DAMSM retrained there since (another order of
    the same words) is not read again at resume, where its vocabulary would have met the
    checkpoint's embeddings of the old one. The recipe's DAMSM term, read anew, is warned of."""
    from textedit.training.config import TrainConfig
    from textedit.training.trainer import Trainer

    config = TrainConfig.model_validate({
        "model": {**AttnGAN.example_config().to_dict(), "type": "attngan",
                  "text_encoder": {"type": "frozen", "source": str(damsm_dir)}},
        "recipe": {"type": "attngan", "damsm": str(damsm_dir)},
        "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 2, "checkpoint_every": 1, "output_dir": str(tmp_path / "run"), "device": "cpu",
    })
    Trainer(config, progress=False).train(max_steps=1)
    started = FrozenTextEncoder(_frozen(damsm_dir).config)
    torch.manual_seed(1)
    DAMSM(DAMSMConfig(
        feature_dim=8,
        text_encoder={"type": "bilstm", "vocabulary": ["head", "bird", "red"], "embedding_dim": 8, "dropout": 0.5},
        image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
    )).save_pretrained(damsm_dir)
    with pytest.warns(UserWarning, match="the recipe's damsm holds other weights than when this run started"):
        resumed = Trainer(config, resume=True, progress=False)  # the DAMSM term is read anew: said
    encoder = textedit.load(resumed.train()).text_encoder
    assert encoder.config.encoder == started.config.encoder, "the vocabulary the run started with"
    for key, value in started.state_dict().items():
        torch.testing.assert_close(encoder.state_dict()[key], value, rtol=0, atol=0, msg=key)
