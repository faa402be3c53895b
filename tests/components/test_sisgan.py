"""SISGAN's generator and matching-aware discriminator."""

from __future__ import annotations

import pytest
import torch

from textedit.components.discriminator.sisgan import SISGANDiscriminator
from textedit.components.generator.sentence_conditioned import SentenceConditionedGenerator
from textedit.components.generator.sisgan import SISGANGenerator
from textedit.errors import ConfigError, InputError
from textedit.interfaces import TextEncoding
from textedit.registry.kinds import get_registry


def _with_sentence(text: TextEncoding, sentence: torch.Tensor) -> TextEncoding:
    return TextEncoding(text.words, sentence, text.word_mask)


@pytest.fixture
def gen() -> SISGANGenerator:
    return SISGANGenerator(SISGANGenerator.example_config()).eval()


@pytest.fixture
def disc() -> SISGANDiscriminator:
    return SISGANDiscriminator(SISGANDiscriminator.example_config()).eval()


# ------------------------------------------------------------------ generator
@pytest.mark.parametrize("size", [16, 64, 128])
def test_generator_one_stage_at_the_input_size(size):
    gen = SISGANGenerator(
        dict(image_size=size, word_dim=6, sentence_dim=5, condition_dim=4, base_channels=4,
             max_channels=16, num_residual_blocks=1)
    ).eval()
    out = gen(**gen.example_inputs(batch_size=2))
    assert gen.stage_sizes == (size,)
    assert len(out.images) == 1 and out.fine.shape == (2, 3, size, size)
    assert out.fine.abs().max() <= 1


def test_generator_reference_widths_at_64px():
    gen = SISGANGenerator(dict(image_size=64, word_dim=128, sentence_dim=128))
    assert gen.stem[0].out_channels == 128
    assert [b[0].out_channels for b in gen.encoder.blocks] == [256, 512]
    with torch.no_grad():
        features = gen.encoder(gen.stem(torch.zeros(1, 3, 64, 64)))[-1]
    assert features.shape == (1, 512, 16, 16)  # SISGAN's encoder downsamples by 4
    assert gen.num_parameters() == 25_970_819


def test_generator_config_and_state_dict_layout_are_stable(gen):
    # saved configs and checkpoints of SISGAN must keep loading: pin the fields, defaults and
    # the top-level modules (in order); the 64-px test above pins the parameter count
    assert SISGANGenerator.config_class().to_dict() == dict(
        image_size=64, word_dim=256, sentence_dim=None, condition_dim=128, base_channels=128,
        max_channels=512, num_downsamples=2, num_residual_blocks=4,
    )
    keys = list(gen.state_dict())
    assert list(dict.fromkeys(k.split(".")[0] for k in keys)) == [
        "stem", "encoder", "augmentation", "fusion", "residual_blocks", "decoder"
    ]
    assert "augmentation.mean.0.weight" in keys
    assert "augmentation.mean.0.bias" not in keys  # SISGAN's has no biases
    assert "residual_blocks.1.body.1.1.bias" in keys


def test_generator_shares_the_unregistered_sentence_conditioned_base():
    assert issubclass(SISGANGenerator, SentenceConditionedGenerator)
    assert get_registry("generator").get("sisgan") is SISGANGenerator
    registered = [get_registry("generator").get(n) for n in get_registry("generator").names()]
    assert SentenceConditionedGenerator not in registered


def test_generator_aux_determinism_and_sampling(gen):
    inputs = gen.example_inputs(batch_size=3)
    out = gen(**inputs)
    k = gen.config.condition_dim
    assert out.aux["ca_mean"].shape == out.aux["ca_logvar"].shape == (3, k)
    torch.testing.assert_close(out.fine, gen(**inputs).fine, rtol=0, atol=0)
    gen.train()
    assert not torch.equal(gen(**inputs).fine, gen(**inputs).fine)


def test_generator_the_sentence_changes_the_output(gen):
    inputs = gen.example_inputs()
    other = _with_sentence(inputs["text"], inputs["text"].sentence.flip(0) + 1.0)
    assert not torch.allclose(gen(**inputs).fine, gen(inputs["image"], other).fine)


def test_generator_clear_errors(gen):
    inputs = gen.example_inputs()
    with pytest.raises(InputError, match="resize"):
        gen(torch.zeros(2, 3, 8, 8), inputs["text"])
    with pytest.raises(InputError, match="sentence_dim"):
        gen(inputs["image"], _with_sentence(inputs["text"], torch.zeros(2, 9)))
    with pytest.raises(ConfigError, match="divisible"):
        SISGANGenerator(dict(image_size=18))


# -------------------------------------------------------------- discriminator
def test_discriminator_returns_one_matching_logit_per_image(disc):
    inputs = disc.example_inputs(batch_size=3)
    out = disc(**inputs)
    assert out.reality == () and out.conformity is None
    assert len(out.matching) == 1 and out.matching[0].shape == (3,)
    assert disc.stage_sizes == (disc.config.image_size,)
    assert disc.word_dim == disc.sentence_dim == disc.config.sentence_dim


@pytest.mark.parametrize(("size", "params"), [(64, 3_915_201), (128, 8_110_529)])
def test_discriminator_reference_layout(size, params):
    disc = SISGANDiscriminator(dict(image_size=size, sentence_dim=128))
    with torch.no_grad():
        assert disc.encoder(torch.zeros(1, 3, size, size)).shape == (1, 512, 4, 4)
        assert disc(**disc.example_inputs()).matching[0].shape == (2,)
    assert disc.num_parameters() == params


def test_discriminator_needs_text_and_checks_inputs(disc):
    inputs = disc.example_inputs()
    with pytest.raises(InputError, match="needs text"):
        disc(inputs["images"])
    with pytest.raises(InputError, match="sentence_dim"):
        disc(inputs["images"], _with_sentence(inputs["text"], torch.zeros(2, 9)))
    with pytest.raises(InputError, match="one"):
        disc([inputs["images"][0], inputs["images"][0]], inputs["text"])
    with pytest.raises(ConfigError, match="power of two"):
        SISGANDiscriminator(dict(image_size=48))


def test_discriminator_reads_the_sentence(disc):
    inputs = disc.example_inputs()
    text = inputs["text"]
    sentence = text.sentence.clone().requires_grad_(True)
    disc.train()
    logits = disc(inputs["images"], _with_sentence(text, sentence)).matching[0]
    logits.sum().backward()
    assert sentence.grad is not None and sentence.grad.abs().sum() > 0
    disc.eval()
    with torch.no_grad():
        a = disc(**inputs).matching[0]
        b = disc(inputs["images"], _with_sentence(text, text.sentence.flip(0) + 1.0)).matching[0]
    assert not torch.allclose(a, b)
