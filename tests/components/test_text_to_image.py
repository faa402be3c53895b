"""The text-to-image contract and its compositions: AttnGAN's and StackGAN++'s generator, the
``GeneratingModel.generate`` front door, the colour-consistency loss, ``textedit generate``
and text-to-image columns in ``textedit eval``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import textedit
from textedit.cli import main
from textedit.components.generator.attngan import AttnGANGenerator, StackGANGenerator
from textedit.errors import InputError
from textedit.interfaces import GeneratingModel, TextEncoding
from textedit.losses import colour_consistency_loss
from textedit.models import AttnGAN, StackGAN
from textedit.utils.digest import weights_digest

TEXT = "this bird has a red head and white wings"

# the example models know a handful of words
pytestmark = pytest.mark.filterwarnings("ignore::textedit.editing.text.EditWarning")


def _text(b: int, t: int = 5, word_dim: int = 6, sentence_dim: int = 5) -> TextEncoding:
    g = torch.Generator().manual_seed(0)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1:, 3:] = False
    words = torch.randn(b, t, word_dim, generator=g) * mask[..., None]
    return TextEncoding(words, torch.randn(b, sentence_dim, generator=g), mask)


@pytest.fixture(scope="module")
def attngan() -> AttnGAN:
    torch.manual_seed(0)
    return AttnGAN.from_config(AttnGAN.example_config()).eval()


@pytest.mark.parametrize("cls", [AttnGANGenerator, StackGANGenerator])
def test_generators_draw_every_stage_from_text_and_noise(cls):
    g = cls.from_config(cls.example_config()).eval()
    assert g.noise_dim == 3 + 4  # z and the conditioning augmentation's sample
    text, noise = _text(3), torch.randn(3, 7)
    out = g(None, text, noise=noise)
    assert [tuple(x.shape) for x in out.images] == [(3, 3, 8, 8), (3, 3, 16, 16)]
    assert all(x.abs().max() <= 1 for x in out.images)
    assert set(out.aux) == {"ca_mean", "ca_logvar"}
    if cls is AttnGANGenerator:  # word attention over the real words only, per position
        gamma = out.word_attention
        assert gamma.shape == (3, 5, 8, 8)
        torch.testing.assert_close(gamma.sum(1), torch.ones(3, 8, 8))
        assert gamma[1:, 3:].abs().max() == 0
    else:
        assert out.word_attention is None
    # eval mode without noise draws from z = 0 and the condition's mean, deterministically
    torch.testing.assert_close(g(None, text).fine, g(None, text, noise=torch.zeros(3, 7)).fine)
    # the conditioning augmentation's sample is part of the noise: it changes the image
    shifted = noise.clone()
    shifted[:, 3:] += 1
    assert not torch.allclose(g(None, text, noise=shifted).fine, out.fine)


def test_the_two_generators_differ_only_in_how_later_stages_read_the_text():
    attn, stack = AttnGANGenerator.example_config(), StackGANGenerator.example_config()
    assert (attn.conditioning, stack.conditioning) == ("words", "sentence")
    assert attn.model_dump(exclude={"conditioning"}) == stack.model_dump(exclude={"conditioning"})
    # StackGAN++'s stages read no word features: any word width is accepted
    g = StackGANGenerator.from_config(stack).eval()
    assert g(None, _text(2, word_dim=11)).fine.shape == (2, 3, 16, 16)


def test_a_text_to_image_generator_refuses_an_image_and_bad_noise():
    g = AttnGANGenerator.from_config(AttnGANGenerator.example_config()).eval()
    with pytest.raises(InputError, match="draws images from text alone; pass image=None"):
        g(torch.zeros(2, 3, 16, 16), _text(2))
    with pytest.raises(InputError, match=r"draws from \(b, 7\) noise for 2 descriptions, got \(2, 4\)"):
        g(None, _text(2), noise=torch.zeros(2, 4))
    with pytest.raises(InputError, match="set generator.word_dim"):
        g(None, _text(2, word_dim=7))
    with pytest.raises(ValueError, match="must be a power of two"):
        AttnGANGenerator.config_class(image_size=48, num_stages=3)


def test_an_editing_generator_refuses_a_missing_image():
    from textedit.components.generator.manigan import ManiGANGenerator

    g = ManiGANGenerator.from_config(ManiGANGenerator.example_config())
    with pytest.raises(InputError, match="edits an input image; pass one"):
        g(None, _text(2))


def test_generate_draws_per_seed_and_per_description(attngan):
    a = attngan.generate([TEXT, "the bird is blue"], seed=7)
    assert isinstance(attngan, GeneratingModel) and not isinstance(attngan, textedit.EditingModel)
    assert a.fine.shape == (2, 3, 16, 16) and a.seeds == [7, 8] and len(a.images) == 2
    assert a.texts == (TEXT, "the bird is blue") and a.image.size == (16, 16) and len(a.pil_images) == 2
    b = attngan.generate("the bird is blue", seed=[8])
    torch.testing.assert_close(b.fine[0], a.fine[1], atol=1e-5, rtol=0)
    many = attngan.generate(TEXT, num_images=3, seed=0)
    assert many.texts == (TEXT,) * 3 and many.seeds == [0, 1, 2]
    assert not torch.equal(many.fine[0], many.fine[1])
    given = attngan.generate(TEXT, noise=attngan.draw_noise([0]))
    torch.testing.assert_close(given.fine, many.fine[:1])
    assert given.seeds == []
    assert attngan.training is False


def test_generate_keeps_the_training_mode_it_found(attngan):
    attngan.train()
    try:
        attngan.generate(TEXT)
        assert attngan.training
    finally:
        attngan.eval()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"texts": ""}, "has no words"),
        ({"texts": [TEXT], "num_images": 0}, "num_images must be at least 1"),
        ({"texts": [TEXT, TEXT], "seed": [1]}, "got 1 seeds for 2 images"),
        ({"texts": [TEXT], "noise": torch.zeros(1, 9)}, r"noise must be \(1, 12\)"),
        ({"texts": ["zzzz qqqq"]}, "knows none of the words"),
    ],
)
def test_generate_refuses_bad_requests_clearly(attngan, kwargs, match):
    with pytest.raises(InputError, match=match):
        attngan.generate(**kwargs)


def test_a_generated_image_is_saved_atomically_and_not_over_an_existing_file(attngan, tmp_path):
    result = attngan.generate([TEXT, TEXT])
    path = result.save(tmp_path / "bird.png", index=1)
    assert path.is_file() and not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        result.save(path, overwrite=False)
    with pytest.raises(IndexError, match="holds 2 images"):
        result.save(tmp_path / "x.png", index=2)


def test_colour_consistency_compares_the_colour_statistics_of_consecutive_stages():
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(2, 3, 8, 8, generator=g) * 2 - 1
    fine = coarse.repeat_interleave(2, -1).repeat_interleave(2, -2)  # the same colours, upsampled
    assert colour_consistency_loss([coarse, fine]).abs() < 1e-6
    assert colour_consistency_loss([fine]) == 0
    shifted = colour_consistency_loss([coarse, fine + 0.5])  # the mean moves by 0.5 per channel
    torch.testing.assert_close(shifted, torch.tensor(3 * 0.25))
    assert colour_consistency_loss([coarse, fine * 2], mean_weight=0) > 0  # the covariance grows


def test_stackgan_logs_its_colour_consistency_term_when_switched_on(tmp_path):
    spec = {**StackGAN.example_config().to_dict(), "type": "stackgan"}
    metrics = _one_step(tmp_path, spec, {"type": "stackgan", "losses": {"colour_consistency": 50.0}})
    assert metrics["colour"] >= 0 and "damsm" not in metrics
    assert "colour" not in _one_step(tmp_path / "off", spec, {"type": "stackgan"})


def test_attngan_adds_the_frozen_damsm_matching_loss(tmp_path):
    from textedit.models.damsm import DAMSM, DAMSMConfig

    spec = {**AttnGAN.example_config().to_dict(), "type": "attngan"}
    damsm = DAMSM(DAMSMConfig(
        feature_dim=8,
        text_encoder={"type": "bilstm", "vocabulary": ["bird", "red", "head"], "embedding_dim": 8},
        image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
    ))
    damsm.save_pretrained(tmp_path / "damsm")

    metrics = _one_step(tmp_path, spec, {"type": "attngan", "damsm": str(tmp_path / "damsm")})
    assert metrics["damsm"] > 0
    with pytest.raises(textedit.TextEditError, match="recipe.damsm: .* is not a folder"):
        _one_step(tmp_path / "b", spec, {"type": "attngan", "damsm": str(tmp_path / "missing")})


def test_attngan_with_a_generator_without_conditioning_augmentation_trains_without_its_kl(tmp_path):
    spec = {**AttnGAN.example_config().to_dict(), "type": "attngan", "generator": "gan_int_cls"}
    metrics = _one_step(tmp_path, spec, {"type": "attngan"})  # a KeyError on 'ca_mean' before
    assert metrics["kl"] == 0 and metrics["g_total"] == pytest.approx(metrics["g_adversarial"])


def test_a_text_to_image_recipe_refuses_an_editing_model(tmp_path):
    from textedit.models import ManiGAN

    spec = {**ManiGAN.example_config().to_dict(), "type": "manigan"}
    with pytest.raises(textedit.TextEditError, match="AttnGANRecipe trains AttnGAN models, not a ManiGAN"):
        _one_step(tmp_path, spec, {"type": "attngan"})


@pytest.fixture(scope="module")
def attngan_dir(attngan, tmp_path_factory):
    path = tmp_path_factory.mktemp("t2i") / "attngan"
    attngan.save_pretrained(path)
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "textedit", *args], capture_output=True, text=True)


@pytest.mark.subprocess
def test_textedit_generate_writes_each_image_and_a_manifest(attngan, attngan_dir, tmp_path, capsys):
    out = tmp_path / "drawn"
    done = _cli("generate", "--model", str(attngan_dir), "--text", TEXT, "--text", "the bird is blue",
                "--num-images", "2", "--seed", "5", "--out", str(out), "--device", "cpu", "--batch-size", "3")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "generated.json").read_text())["images"]
    assert [m["seed"] for m in manifest] == [5, 6, 7, 8]
    assert [m["description"] for m in manifest] == [TEXT, TEXT, "the bird is blue", "the bird is blue"]
    drawn = np.asarray(Image.open(out / manifest[2]["file"]))
    assert np.array_equal(drawn, np.asarray(attngan.generate("the bird is blue", seed=7).image))
    # the refusals, in this process (a fresh interpreter each costs seconds)
    assert all(m["weights"] == weights_digest(attngan) for m in manifest)
    # the same command again keeps what it drew; another seed into the same files is refused
    assert main(["generate", "--model", str(attngan_dir), "--text", TEXT, "--num-images", "2", "--seed", "5",
                 "--out", str(out), "--no-progress"]) == 0
    assert "(2 drawn before with these weights, kept)" in capsys.readouterr().out
    assert main(["generate", "--model", str(attngan_dir), "--text", TEXT, "--seed", "5", "--out", str(out)]) == 0
    (out / manifest[0]["file"]).unlink()
    (out / manifest[1]["file"]).write_bytes(b"not this command's")
    assert main(["generate", "--model", str(attngan_dir), "--text", TEXT, "--num-images", "2", "--seed", "5", "--out", str(out)]) == 2
    assert "1 output file(s) exist that this command did not draw" in capsys.readouterr().err
    # a run stopped after its first batch is completed by the same command, the manifest keeping every run's images
    calls = []
    original = type(attngan).generate

    def stops_after_one_batch(self, *args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return original(self, *args, **kwargs)

    again = tmp_path / "again"
    command = ["generate", "--model", str(attngan_dir), "--text", "the bird is blue", "--num-images", "3",
               "--batch-size", "2", "--out", str(again), "--no-progress"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(attngan), "generate", stops_after_one_batch)
        assert main(command) == 130  # "interrupted"
    assert len(json.loads((again / "generated.json").read_text())["images"]) == 2
    assert main(command) == 0 and "(2 drawn before with these weights, kept)" in capsys.readouterr().out
    assert [m["seed"] for m in json.loads((again / "generated.json").read_text())["images"]] == [0, 1, 2]
    assert main(["generate", "--model", str(attngan_dir), "--texts", str(tmp_path), "--out", str(out)]) == 2
    assert "is a folder; give a text file" in capsys.readouterr().err
    assert main(["generate", "--model", str(attngan_dir), "--text", TEXT, "--out", ""]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert main(["generate", "--model", str(attngan_dir), "--text", "  ", "--out", str(tmp_path / "none")]) == 2
    assert "has no words" in capsys.readouterr().err and not (tmp_path / "none").exists()
    for seed in ("-1", str(2**64)):
        assert main(["generate", "--model", str(attngan_dir), "--text", TEXT, "--seed", seed, "--out", str(tmp_path / "s")]) == 2
        assert "--seed must be at least 0" in capsys.readouterr().err and not (tmp_path / "s").exists()
    with pytest.raises(InputError, match=r"seeds must lie in \[0, 2\*\*63\)"):
        attngan.generate(TEXT, seed=[2**63])


def test_each_command_points_to_the_other_for_the_other_kind_of_model(attngan_dir, tiny_editor_dir, tmp_path, capsys):
    assert main(["edit", "--model", str(attngan_dir), "--image", "examples/images/bird_64.png", "--text", TEXT,
                 "--out", str(tmp_path / "e")]) == 2
    assert "use `textedit generate`" in capsys.readouterr().err
    assert main(["generate", "--model", str(tiny_editor_dir), "--text", TEXT, "--out", str(tmp_path / "g")]) == 2
    assert "use `textedit edit`" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_editor_dir(tmp_path_factory):
    from textedit.testing import TINY_MIMNET

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("t2i") / "mimnet"
    textedit.create_model(TINY_MIMNET).save_pretrained(path)
    return path


def test_eval_says_why_an_asked_for_metric_has_no_column(attngan_dir, tmp_path):
    from textedit.evaluation.evaluate import evaluate

    results = evaluate([f"attn={attngan_dir}"], "synthetic:birds", tmp_path / "eval", data_n=40, limit=2,
                       metrics="diff,l1")
    reason = "compares an edit with its input image, which a text-to-image model has none of"
    assert results["metrics"] == [] and results["skipped"]["diff"] == results["skipped"]["l1"] == reason


def test_eval_measures_a_text_to_image_column_by_the_classifier_alone(attngan_dir, tmp_path):
    from textedit.evaluation.classifier import AttributeClassifier
    from textedit.evaluation.evaluate import evaluate

    AttributeClassifier({"family": "birds", "image_size": 16, "width": 4}).save_pretrained(tmp_path / "classifier")
    results = evaluate(
        [f"attn={attngan_dir}", "identity"], "synthetic:birds", tmp_path / "eval", data_n=40, limit=4,
        batch_size=2, classifier=str(tmp_path / "classifier"),
    )
    attn, identity = results["models"]["attn"]["results"], results["models"]["identity"]["results"]
    for name in ("diff", "l1", "bg_change", "unmentioned_change", "id_diff"):
        assert name not in attn and name in identity  # nothing that compares with the input
    assert attn["attr_acc"]["n"] == 4 and 0 <= attn["attr_acc"]["mean"] <= 1
    records = [json.loads(line) for line in (tmp_path / "eval" / "models" / "attn" / "records.jsonl").read_text().splitlines()]
    assert all(v is not None for r in records for v in r["verdicts"].values())  # every attribute read
    # item i is drawn from seed i: a resumed or re-run evaluation draws the same images
    drawn = textedit.load(attngan_dir).generate([records[1]["description"]], seed=[records[1]["index"]])
    saved = Image.open(next((tmp_path / "eval" / "models" / "attn" / "outputs").glob(f"{records[1]['id']}*")))
    assert np.array_equal(np.asarray(saved), np.asarray(drawn.image))


def _one_step(tmp_path, model, recipe):
    from textedit.training.config import TrainConfig
    from textedit.training.trainer import Trainer

    config = TrainConfig.model_validate({
        "model": model, "recipe": recipe,
        "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 1, "ema_decay": None, "output_dir": str(tmp_path / "run"), "device": "cpu",
    })
    return Trainer(config, progress=False).train_step()


def test_gan_int_cls_draws_one_stage_and_trains_with_interpolated_descriptions(tmp_path):
    from textedit.components.generator.gan_int_cls import GANINTCLSGenerator
    from textedit.models import GANINTCLS

    g = GANINTCLSGenerator.from_config(GANINTCLSGenerator.example_config()).eval()
    out = g(None, _text(2), noise=torch.randn(2, 3))
    assert [tuple(x.shape) for x in out.images] == [(2, 3, 16, 16)] and out.word_attention is None
    spec = {**GANINTCLS.example_config().to_dict(), "type": "gan_int_cls"}
    with_int = _one_step(tmp_path / "a", spec, {"type": "gan_int_cls"})
    assert with_int["g_interpolation"] > 0 and {"d_real", "d_wrong", "d_fake"} <= set(with_int)
    cls_only = _one_step(tmp_path / "b", spec, {"type": "gan_int_cls", "losses": {"interpolation": 0}})
    assert "g_interpolation" not in cls_only
    no_matching = {**spec, "discriminator": {"type": "attngan", "base_channels": 4, "max_channels": 16}}
    with pytest.raises(textedit.TextEditError, match="GANINTCLSRecipe reads the discriminator's matching scores, and AttnGANDiscriminator gives reality and conformity"):
        _one_step(tmp_path / "c", no_matching, {"type": "gan_int_cls"})


def test_the_ema_averages_batch_norm_statistics_with_the_weights_and_resumes_them_exactly(tmp_path):
    from textedit.training.checkpoint import latest_checkpoint, load_checkpoint
    from textedit.training.config import TrainConfig
    from textedit.training.trainer import Trainer

    def config(out):
        return TrainConfig.model_validate({
            "model": {**AttnGAN.example_config().to_dict(), "type": "attngan"},
            "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
            "batch_size": 2, "steps": 4, "checkpoint_every": 2, "ema_decay": 0.5, "threads": 1,
            "output_dir": str(out), "device": "cpu",
        })

    whole = Trainer(config(tmp_path / "whole"), progress=False)
    stats = [n for n, _ in whole.model.named_buffers() if n.endswith(("running_mean", "running_var"))]
    assert len(whole.ema_buffers) == len(stats) > 0  # every batch norm of the generator
    exported = textedit.load(whole.train()).state_dict()
    live = whole.model.state_dict()
    for name in stats:  # the exported statistics are the averaged ones, not the live ones
        assert not torch.equal(exported[name], live[name].cpu()), name
    torch.testing.assert_close(
        [exported[n] for n in stats], [v.cpu() for v in whole.ema_buffer_values], rtol=0, atol=0
    )
    part = Trainer(config(tmp_path / "part"), progress=False)
    part.train(max_steps=2)
    state = load_checkpoint(latest_checkpoint(tmp_path / "part" / "checkpoints"))
    assert len(state["ema_buffers"]) == len(stats)
    resumed = textedit.load(Trainer(config(tmp_path / "part"), resume=True, progress=False).train()).state_dict()
    for name, value in exported.items():
        torch.testing.assert_close(resumed[name], value, rtol=0, atol=0, msg=name)
