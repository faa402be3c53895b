"""ManiGAN's generator (stages, ACM, word attentions) and AttnGAN's discriminator."""

from __future__ import annotations

import pytest
import torch

from textedit.components.discriminator.attngan import AttnGANDiscriminator
from textedit.components.generator.manigan import (
    AffineCombination,
    ChannelWordAttention,
    ManiGANGenerator,
)
from textedit.errors import ConfigError, InputError
from textedit.interfaces import TextEncoding
from textedit.interfaces.discriminator import DiscriminatorOutput


@pytest.fixture
def gen() -> ManiGANGenerator:
    return ManiGANGenerator(ManiGANGenerator.example_config()).eval()


@pytest.mark.parametrize(("size", "stages", "sizes"), [(16, 2, (8, 16)), (64, 3, (16, 32, 64)), (32, 1, (32,))])
def test_generator_draws_one_image_per_stage(size, stages, sizes):
    gen = ManiGANGenerator(
        dict(image_size=size, num_stages=stages, word_dim=6, sentence_dim=5, condition_dim=4, noise_dim=3,
             base_channels=4, image_feature_dim=8, acm_channels=4, num_residual_blocks=1)
    ).eval()
    out = gen(**gen.example_inputs(batch_size=2))
    assert gen.stage_sizes == sizes
    assert [tuple(i.shape) for i in out.images] == [(2, 3, s, s) for s in sizes]
    assert all(i.abs().max() <= 1 for i in out.images)
    assert out.aux["ca_mean"].shape == out.aux["ca_logvar"].shape == (2, 4)
    regions, code = gen.encode_image(torch.zeros(2, 3, size, size))
    assert regions.shape == (2, 8, sizes[0], sizes[0]) and code.shape == (2, 8)


def test_edit_is_deterministic_in_eval_mode_and_noisy_in_training(gen):
    inputs = gen.example_inputs(batch_size=2)
    with torch.no_grad():
        torch.testing.assert_close(gen(**inputs).fine, gen(**inputs).fine, rtol=0, atol=0)
        gen.train()
        assert not torch.equal(gen(**inputs).fine, gen(**inputs).fine)


def test_the_text_and_the_image_both_change_the_output(gen):
    inputs = gen.example_inputs(batch_size=2)
    with torch.no_grad():
        base = gen(**inputs).fine
        text = inputs["text"]
        other = TextEncoding(text.words.flip(0), text.sentence.flip(0), text.word_mask.flip(0))
        assert not torch.allclose(gen(inputs["image"], other).fine, base)
        assert not torch.allclose(gen(inputs["image"].flip(0), text).fine, base)


def test_padded_words_do_not_change_the_output(gen):
    inputs = gen.example_inputs(batch_size=2)
    text = inputs["text"]
    noisy = text.words + 5.0 * (~text.word_mask)[..., None]  # garbage where the mask is off
    with torch.no_grad():
        torch.testing.assert_close(
            gen(inputs["image"], TextEncoding(noisy, text.sentence, text.word_mask)).fine,
            gen(**inputs).fine,
        )


def test_word_attention_is_a_distribution_over_the_real_words(gen):
    inputs = gen.example_inputs(batch_size=2)
    with torch.no_grad():
        gamma = gen(**inputs).word_attention
    mask = inputs["text"].word_mask
    assert gamma.shape == (2, mask.shape[1], 8, 8)
    torch.testing.assert_close(gamma.sum(1), torch.ones(2, 8, 8))
    assert (gamma[~mask] == 0).all()


def test_channel_attention_mixes_the_projected_words_convexly():
    attention = ChannelWordAttention(word_dim=3, size=2)
    words = torch.randn(1, 4, 3)
    mask = torch.tensor([[True, True, False, False]])
    out = attention(torch.randn(1, 5, 2, 2), words, mask)
    projected = attention.projection(words)[0, :2]  # the two real words, (2, 4)
    low, high = projected.min(0).values, projected.max(0).values
    flat = out.view(5, 4)
    assert ((flat >= low - 1e-6) & (flat <= high + 1e-6)).all()


def test_acm_scales_and_shifts_by_the_image_features():
    acm = AffineCombination(channels=2, image_channels=3, hidden=4)
    v = torch.randn(1, 3, 4, 4)
    h = torch.randn(1, 2, 4, 4)
    code = acm.shared(v)
    torch.testing.assert_close(acm(h, v), h * acm.weight(code) + acm.bias(code))
    torch.testing.assert_close(acm(torch.zeros_like(h), v), acm.bias(code))


def test_bad_sizes_and_widths_are_refused(gen):
    with pytest.raises(ConfigError, match="power of two >= 4"):
        ManiGANGenerator(dict(image_size=48, num_stages=3))
    with pytest.raises(ConfigError, match="power of two >= 4"):
        ManiGANGenerator(dict(image_size=16, num_stages=4))
    inputs = gen.example_inputs(batch_size=2)
    with pytest.raises(InputError, match=r"\(b, 3, 16, 16\) images"):
        gen(torch.zeros(2, 3, 8, 8), inputs["text"])
    text = inputs["text"]
    with pytest.raises(InputError, match="generator.word_dim"):
        gen(inputs["image"], TextEncoding(text.words[..., :2], text.sentence, text.word_mask))
    with pytest.raises(InputError, match="generator.sentence_dim"):
        gen(inputs["image"], TextEncoding(text.words, text.sentence[:, :2], text.word_mask))


def test_generator_parameters_at_the_reference_widths():
    # the paper's main module for birds: ngf 32, nef 256, 256 px in three stages
    gen = ManiGANGenerator(dict(image_size=256))
    assert gen.stage_sizes == (64, 128, 256)
    assert gen.initial.out_features == 2 * 32 * 16 * 16  # ngf·16 channels at 4×4, GLU-gated
    assert [s.channel.projection.out_features for s in gen.stages] == [64 * 64, 128 * 128]


# -------------------------------------------------------------- discriminator
@pytest.fixture
def disc() -> AttnGANDiscriminator:
    return AttnGANDiscriminator(AttnGANDiscriminator.example_config()).eval()


def _stage_images(sizes, b=2):
    return [torch.rand(b, 3, s, s) * 2 - 1 for s in sizes]


def test_discriminator_scores_each_stage(disc):
    images = _stage_images(disc.stage_sizes)
    out = disc(images)
    assert isinstance(out, DiscriminatorOutput) and out.conformity is None
    assert [r.shape for r in out.reality] == [(2,), (2,)]
    scored = disc(images, TextEncoding(torch.zeros(2, 3, 5), torch.randn(2, 5), torch.ones(2, 3, dtype=torch.bool)))
    assert all((c <= 0).all() for c in scored.conformity)  # log-probabilities
    torch.testing.assert_close(scored.reality, out.reality)


def test_discriminator_widths_follow_attngan(disc):
    d = AttnGANDiscriminator(dict(stage_sizes=(64, 128, 256), sentence_dim=256))
    channels = [[b[0].out_channels for b in stage.encoder] for stage in d.stages]
    assert channels == [[64, 128, 256, 512], [64, 128, 256, 512, 512], [64, 128, 256, 512, 512, 512]]


def test_discriminator_refuses_wrong_stages_and_sentences(disc):
    with pytest.raises(InputError, match=r"sizes \[8, 16\]"):
        disc(_stage_images((16, 16)))
    with pytest.raises(InputError, match="discriminator.sentence_dim"):
        disc(_stage_images(disc.stage_sizes), TextEncoding(torch.zeros(2, 3, 4), torch.zeros(2, 4), torch.ones(2, 3, dtype=torch.bool)))


def test_generator_config_and_module_layout_are_stable(gen):
    # saved ManiGAN checkpoints must keep loading: pin the fields, defaults and top-level modules
    assert ManiGANGenerator.config_class().to_dict() == dict(
        image_size=256, num_stages=3, word_dim=256, sentence_dim=None, condition_dim=100, noise_dim=100,
        base_channels=32, num_residual_blocks=2, norm="group", image_feature_dim=256, acm_channels=128,
    )
    assert [name for name, _ in gen.named_children()] == [
        "stem", "image_encoder", "global_code", "augmentation", "initial", "initial_norm", "initial_up",
        "image_code", "stages", "image_up", "combine", "to_rgb",
    ]
