"""MIMNetGenerator: stage shapes, ICM/TLU wiring, FIR attention, errors."""

from __future__ import annotations

import pytest
import torch

from textedit.components.generator.mimnet import MIMNetGenerator
from textedit.components.localizer.everywhere import EverywhereLocalizer
from textedit.components.localizer.tlu import TLULocalizer
from textedit.errors import ConfigError, InputError
from textedit.interfaces import MemoryRead, TextEncoding


@pytest.fixture
def generator() -> MIMNetGenerator:
    return MIMNetGenerator(MIMNetGenerator.example_config()).eval()


@pytest.fixture
def tlu(generator) -> TLULocalizer:
    return TLULocalizer(
        dict(channels=generator.feature_channels, texture_dim=generator.texture_dim)
    )


def test_stages_and_outputs(generator, tlu):
    inputs = generator.example_inputs(batch_size=3)
    out = generator(**inputs, localizer=tlu)
    assert [tuple(i.shape) for i in out.images] == [(3, 3, 8, 8), (3, 3, 16, 16)]
    assert all(i.abs().max() <= 1 for i in out.images)
    assert out.localization.shape == (3, 1, 4, 4)
    assert out.aux["texture_feature"].shape == out.aux["localized_feature"].shape == (3, 8)
    mask = inputs["memory"].word_mask
    gamma = out.word_attention
    assert gamma.shape == (3, 5, 8, 8)
    torch.testing.assert_close(gamma.sum(1), torch.ones(3, 8, 8))
    assert gamma.permute(0, 2, 3, 1)[~mask[:, None, None, :].expand(-1, 8, 8, -1)].abs().max() == 0


def test_localized_feature_is_the_beta_weighted_mean_of_the_image_features(generator, tlu):
    inputs = generator.example_inputs()
    seen = {}
    tlu.register_forward_hook(lambda m, args, out: seen.update(original=args[1]))
    out = generator(**inputs, localizer=tlu)
    beta = out.localization
    expected = (beta * seen["original"]).sum((2, 3)) / beta.sum((2, 3))
    torch.testing.assert_close(out.aux["localized_feature"], expected)


def test_without_a_localizer_the_coarse_features_are_used_everywhere(generator):
    inputs = generator.example_inputs()
    everywhere = EverywhereLocalizer(
        dict(channels=generator.feature_channels, texture_dim=generator.texture_dim)
    )
    plain = generator(**inputs)
    assert plain.localization is None
    torch.testing.assert_close(plain.fine, generator(**inputs, localizer=everywhere).fine)


def test_padded_words_change_nothing(generator, tlu):
    inputs = generator.example_inputs(batch_size=1)
    memory = inputs["memory"]
    mask = torch.zeros(1, 5, dtype=torch.bool)
    mask[0, :2] = True
    texture = memory.texture * mask[..., None]
    noisy = texture + torch.randn_like(texture) * (~mask)[..., None]
    a = generator(**{**inputs, "memory": MemoryRead(texture, mask)}, localizer=tlu)
    b = generator(**{**inputs, "memory": MemoryRead(noisy, mask)}, localizer=tlu)
    torch.testing.assert_close(a.fine, b.fine)


def test_gradients_reach_the_memory_textures(generator, tlu):
    generator.train()
    inputs = generator.example_inputs()
    texture = inputs["memory"].texture.clone().requires_grad_(True)
    inputs["memory"] = MemoryRead(texture, inputs["memory"].word_mask)
    out = generator(**inputs, localizer=tlu)
    (out.coarse.mean() + out.fine.mean()).backward()
    assert texture.grad.abs().sum() > 0


def test_errors_say_what_to_do(generator):
    inputs = generator.example_inputs()
    with pytest.raises(InputError, match="16×16"):
        generator(**{**inputs, "image": torch.zeros(2, 3, 12, 12)})
    with pytest.raises(InputError, match="memory"):
        generator(**{**inputs, "memory": None})
    with pytest.raises(InputError, match="texture_dim"):
        generator(
            **{**inputs, "memory": MemoryRead(torch.zeros(2, 5, 7), inputs["memory"].word_mask)}
        )
    mask = inputs["text"].word_mask
    with pytest.raises(InputError, match="generator.word_dim"):
        generator(**{**inputs, "text": TextEncoding(torch.zeros(2, 5, 9), torch.zeros(2, 6), mask)})
    with pytest.raises(ConfigError, match="feature_size"):
        MIMNetGenerator(dict(image_size=64, feature_size=64))


@pytest.mark.parametrize("size", [64, 128, 256])
def test_paper_resolutions_build(size):
    g = MIMNetGenerator(dict(image_size=size, feature_size=size // 8, channels=32, base_channels=8))
    assert g.stage_sizes == (size // 2, size)
    assert g.structure_reduction == 8


_OPTIONS = dict(
    skip_connections=True,
    word_attention="every_level",
    attention_keys="word_and_texture",
    output="composite",
)


@pytest.fixture
def edit_generator() -> MIMNetGenerator:
    """The example generator with every option beyond the paper switched on."""
    config = MIMNetGenerator.example_config().model_copy(update=_OPTIONS)
    return MIMNetGenerator(MIMNetGenerator.config_class(**config.model_dump())).eval()


def test_options_keep_the_stage_shapes(edit_generator):
    tlu = TLULocalizer(dict(channels=edit_generator.feature_channels, texture_dim=edit_generator.texture_dim))
    out = edit_generator(**edit_generator.example_inputs(batch_size=3), localizer=tlu)
    assert [tuple(i.shape) for i in out.images] == [(3, 3, 8, 8), (3, 3, 16, 16)]
    assert all(i.abs().max() <= 1 for i in out.images)
    # the composite's mask is the localization, at the output's size, in [0, 1]
    assert out.localization.shape == (3, 1, 16, 16)
    assert 0 <= out.localization.min() and out.localization.max() <= 1
    assert [tuple(d.shape) for d in out.decoded] == [(3, 3, 8, 8), (3, 3, 16, 16)]


def test_a_composite_generator_starts_as_the_identity(edit_generator):
    inputs = edit_generator.example_inputs(batch_size=2)
    out = edit_generator(**inputs)
    image = inputs["image"]
    torch.testing.assert_close(out.fine, image, atol=2e-3, rtol=0)
    coarse = torch.nn.functional.interpolate(image, size=(8, 8), mode="bilinear", antialias=True)
    torch.testing.assert_close(out.coarse, coarse, atol=2e-3, rtol=0)


def test_a_closed_mask_returns_the_input_exactly(edit_generator):
    inputs = edit_generator.example_inputs(batch_size=2)
    with torch.no_grad():
        edit_generator.fine_decoder.to_image[0].weight.normal_()
        edit_generator.fine_decoder.to_image[0].bias[3] = -1e4  # mask logit: closed
    out = edit_generator(**inputs)
    assert torch.equal(out.fine, inputs["image"])
    assert not torch.allclose(out.decoded[1], inputs["image"], atol=1e-2)


def test_word_keys_ignore_padded_words(edit_generator):
    inputs = edit_generator.example_inputs(batch_size=1)
    mask = torch.zeros(1, 5, dtype=torch.bool)
    mask[0, :2] = True
    texture = inputs["memory"].texture * mask[..., None]
    text = inputs["text"]
    noisy_words = text.words + torch.randn_like(text.words) * (~mask)[..., None]
    with torch.no_grad():  # a non-trivial generator: change and mask depend on the words
        for p in edit_generator.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    a = edit_generator(**{**inputs, "memory": MemoryRead(texture, mask),
                          "text": TextEncoding(text.words, text.sentence, mask)})
    b = edit_generator(**{**inputs, "memory": MemoryRead(texture, mask),
                          "text": TextEncoding(noisy_words, text.sentence, mask)})
    torch.testing.assert_close(a.fine, b.fine)


def test_the_word_path_reaches_the_output(edit_generator):
    edit_generator.train()
    inputs = edit_generator.example_inputs()
    words = inputs["text"].words.clone().requires_grad_(True)
    text = inputs["text"]
    inputs["text"] = TextEncoding(words, text.sentence, text.word_mask)
    with torch.no_grad():  # move off the identity start so the change depends on the input
        edit_generator.fine_decoder.to_image[0].weight.normal_(std=0.1)
    edit_generator(**inputs).fine.sum().backward()
    assert words.grad.abs().sum() > 0


def test_saved_weight_names_stay_those_of_earlier_versions():
    # models saved before the options existed name their output convolutions this way
    keys = set(MIMNetGenerator(MIMNetGenerator.example_config()).state_dict())
    assert {"coarse_decoder.0.weight", "fine_decoder.2.0.weight"} <= keys
    composite = MIMNetGenerator(MIMNetGenerator.example_config().model_copy(update=_OPTIONS))
    assert {"coarse_decoder.0.weight", "fine_decoder.to_image.0.weight"} <= set(composite.state_dict())


def _with(config_update: dict) -> MIMNetGenerator:
    config = MIMNetGenerator.example_config().model_copy(update=config_update)
    return MIMNetGenerator(MIMNetGenerator.config_class(**config.model_dump()))


@pytest.mark.parametrize("skip", [True, False])
@pytest.mark.parametrize("kind", ["fourier", "noise"])
def test_a_pattern_input_starts_as_the_generator_without_it(kind, skip):
    # the input joins through a zero projection: a trained model gains it without changing
    # its edits, and a fine-tuning run (init_partial) starts where the model was
    options = {**_OPTIONS, "skip_connections": skip}
    torch.manual_seed(0)
    plain = _with(options).eval()
    with torch.no_grad():  # a non-trivial decoder
        for p in plain.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    patterned = _with({**options, "pattern_input": kind}).eval()
    missing, unexpected = patterned.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["pattern_features.projection.weight"] and not unexpected
    inputs = plain.example_inputs(batch_size=2)
    torch.testing.assert_close(patterned(**inputs).fine, plain(**inputs).fine)
    with torch.no_grad():
        patterned.pattern_features.projection.weight.normal_()
    assert not torch.allclose(patterned(**inputs).fine, plain(**inputs).fine, atol=1e-3)


def test_the_pattern_projection_learns_from_a_zero_start():
    g = _with({**_OPTIONS, "pattern_input": "fourier"}).train()
    with torch.no_grad():
        g.fine_decoder.to_image[0].weight.normal_(std=0.1)
    g(**g.example_inputs()).fine.square().sum().backward()
    assert g.pattern_features.projection.weight.grad.abs().sum() > 0


def test_fourier_waves_have_the_frequencies_asked_for():
    g = _with({**_OPTIONS, "pattern_input": "fourier", "pattern_frequencies": [4.0]})
    assert g.config.wave_frequencies() == (4.0,)
    captured = {}
    g.pattern_features.projection.register_forward_hook(lambda m, a, o: captured.update(p=a[0]))
    g.pattern_features(torch.zeros(2, g.width(16), 16, 16))
    p = captured["p"]
    assert p.shape == (2, 8, 16, 16)  # sin and cos at 4 angles, the batch sharing them
    torch.testing.assert_close(p[:, :4].square() + p[:, 4:].square(), torch.ones(2, 4, 16, 16))
    # angle 0 varies along x only, with a period of 16 / 4 = 4 pixels; angle π/2 along y only
    torch.testing.assert_close(p[0, 0], p[0, 0, :1].expand(16, -1), atol=1e-5, rtol=0)
    torch.testing.assert_close(p[0, 0, :, :4], p[0, 0, :, 4:8], atol=1e-5, rtol=0)
    torch.testing.assert_close(p[0, 2], p[0, 2, :, :1].expand(-1, 16), atol=1e-5, rtol=0)


def test_noise_is_fresh_in_training_and_fixed_in_eval():
    g = _with({**_OPTIONS, "pattern_input": "noise"})
    with torch.no_grad():
        g.pattern_features.projection.weight.normal_()
    x = torch.zeros(2, g.width(16), 16, 16)
    g.train()
    assert not torch.equal(g.pattern_features(x), g.pattern_features(x))
    g.eval()
    a, b = g.pattern_features(x), g.pattern_features(x)
    assert torch.equal(a, b) and torch.equal(a[0], a[1])  # deterministic edits
    assert a.std() > 0.1


def test_the_default_wave_frequencies_reach_a_four_pixel_period():
    config = MIMNetGenerator.config_class(image_size=64, feature_size=8, pattern_input="fourier")
    freqs = config.wave_frequencies()
    assert freqs[0] == 2.0 and freqs[-1] == pytest.approx(16.0) and len(freqs) == 7


def test_pattern_option_errors_say_what_to_do():
    with pytest.raises(ConfigError, match="pattern_input: fourier only"):
        MIMNetGenerator(dict(image_size=16, feature_size=4, pattern_frequencies=[2.0]))
    with pytest.raises(ConfigError, match=r"\(0, H/2 = 8\)"):
        MIMNetGenerator(dict(image_size=16, feature_size=4, pattern_input="fourier",
                             pattern_frequencies=[8.0]))
