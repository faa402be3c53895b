"""TAGANGenerator: shapes, conditioning augmentation, and that the sentence steers the output."""

from __future__ import annotations

import pytest
import torch

from textedit.components.generator.sentence_conditioned import SentenceConditionedGenerator
from textedit.components.generator.tagan import TAGANGenerator
from textedit.errors import ConfigError, InputError
from textedit.interfaces import TextEncoding
from textedit.registry.kinds import get_registry


@pytest.fixture
def gen() -> TAGANGenerator:
    return TAGANGenerator(TAGANGenerator.example_config()).eval()


def _with_sentence(text: TextEncoding, sentence: torch.Tensor) -> TextEncoding:
    return TextEncoding(text.words, sentence, text.word_mask)


@pytest.mark.parametrize("size", [16, 64, 128])
def test_one_stage_at_the_input_size(size):
    gen = TAGANGenerator(
        dict(image_size=size, word_dim=6, sentence_dim=5, condition_dim=4, base_channels=4,
             max_channels=16, num_residual_blocks=1)
    ).eval()
    out = gen(**gen.example_inputs(batch_size=2))
    assert gen.stage_sizes == (size,)
    assert len(out.images) == 1 and out.fine.shape == (2, 3, size, size)
    assert out.fine.abs().max() <= 1
    assert gen.uses == frozenset()


def test_reference_widths_at_64px():
    gen = TAGANGenerator(dict(image_size=64, word_dim=128, sentence_dim=128))
    assert [b[0].out_channels for b in gen.encoder.blocks] == [128, 256, 512]
    assert gen.stem[0].out_channels == 64
    assert len(gen.residual_blocks) == 4
    with torch.no_grad():
        features = gen.encoder(gen.stem(torch.zeros(1, 3, 64, 64)))[-1]
    assert features.shape == (1, 512, 8, 8)  # TAGAN's encoder downsamples by 8
    assert gen.num_parameters() == 26_172_739


def test_config_and_state_dict_layout_are_stable(gen):
    # saved configs and checkpoints of TAGAN must keep loading: pin the fields, defaults and
    # the top-level modules (in order); test_reference_widths_at_64px pins the parameter count
    assert TAGANGenerator.config_class().to_dict() == dict(
        image_size=128, word_dim=256, sentence_dim=None, condition_dim=128, base_channels=64,
        max_channels=512, num_downsamples=3, num_residual_blocks=4,
    )
    keys = list(gen.state_dict())
    assert list(dict.fromkeys(k.split(".")[0] for k in keys)) == [
        "stem", "encoder", "augmentation", "merge", "residual_blocks", "decoder"
    ]
    assert "augmentation.mean.0.bias" in keys  # TAGAN's conditioning augmentation has biases
    assert "residual_blocks.1.body.1.1.bias" in keys


def test_shares_the_unregistered_sentence_conditioned_base():
    assert issubclass(TAGANGenerator, SentenceConditionedGenerator)
    assert get_registry("generator").get("tagan") is TAGANGenerator
    registered = [get_registry("generator").get(n) for n in get_registry("generator").names()]
    assert SentenceConditionedGenerator not in registered


def test_conditioning_augmentation_in_aux(gen):
    inputs = gen.example_inputs(batch_size=3)
    out = gen(**inputs)
    k = gen.config.condition_dim
    assert out.aux["ca_mean"].shape == (3, k)
    assert out.aux["ca_logvar"].shape == (3, k)


def test_eval_is_deterministic_and_train_samples(gen):
    inputs = gen.example_inputs()
    torch.testing.assert_close(gen(**inputs).fine, gen(**inputs).fine, rtol=0, atol=0)
    gen.train()
    assert not torch.equal(gen(**inputs).fine, gen(**inputs).fine)


def test_the_sentence_changes_the_output(gen):
    inputs = gen.example_inputs()
    text = inputs["text"]
    other = _with_sentence(text, text.sentence.flip(0) + 1.0)
    assert not torch.allclose(gen(**inputs).fine, gen(inputs["image"], other).fine)


def test_gradient_reaches_the_sentence(gen):
    inputs = gen.example_inputs()
    sentence = inputs["text"].sentence.clone().requires_grad_(True)
    gen.train()
    gen(inputs["image"], _with_sentence(inputs["text"], sentence)).fine.sum().backward()
    assert sentence.grad is not None and sentence.grad.abs().sum() > 0


def test_clear_errors(gen):
    inputs = gen.example_inputs()
    with pytest.raises(InputError, match="resize"):
        gen(torch.zeros(2, 3, 8, 8), inputs["text"])
    with pytest.raises(InputError, match="sentence_dim"):
        gen(inputs["image"], _with_sentence(inputs["text"], torch.zeros(2, 9)))
    with pytest.raises(ConfigError, match="divisible"):
        TAGANGenerator(dict(image_size=20, num_downsamples=3))
