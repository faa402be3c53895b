"""Property tests of the word attention (MIM-Net's FIR, spec section 4; AttnGAN's and
ManiGAN's spatial attention): convex weights over the real words, an output inside the hull
of the words' values, and the same results in either memory layout."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from textedit.layers import WordAttention, is_channels_last
from textedit.testing.strategies import masks, seeds


@st.composite
def attention_cases(draw):
    """A word attention with random weights (scaled up to saturate the softmax at times) and
    inputs: ``(b, c, h, w)`` features, ``(b, t, d)`` textures, a ``(b, t)`` mask and, when the
    attention reads them, word features."""
    mask = draw(masks(batch_size=st.integers(1, 3), length=st.integers(1, 6)))
    b, t = mask.shape
    c, h, w = draw(st.integers(1, 8)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    d = draw(st.integers(1, 8))
    key_dim = draw(st.none() | st.integers(1, 5))
    g = torch.Generator().manual_seed(draw(seeds()))
    torch.manual_seed(draw(seeds()))
    attention = WordAttention(texture_dim=d, channels=c, key_dim=key_dim)
    with torch.no_grad():
        attention.projection.weight.mul_(draw(st.sampled_from([1.0, 30.0])))
    features = torch.randn(b, c, h, w, generator=g)
    texture = torch.randn(b, t, d, generator=g)
    words = None if key_dim is None else torch.randn(b, t, key_dim, generator=g)
    return attention, features, texture, mask, words


@given(attention_cases())
def test_weights_are_a_distribution_over_the_real_words(case):
    attention, features, texture, mask, words = case
    _, gamma = attention(features, texture, mask, words)
    b, t = mask.shape
    assert gamma.shape == (b, t, *features.shape[-2:])
    assert (gamma >= 0).all()
    assert (gamma[~mask] == 0).all()
    torch.testing.assert_close(gamma.sum(dim=1), torch.ones(b, *features.shape[-2:]))


@given(attention_cases())
def test_each_position_reads_a_convex_combination_of_the_word_values(case):
    attention, features, texture, mask, words = case
    attended, _ = attention(features, texture, mask, words)
    values = attention.projection(texture)  # (b, t, c)
    if words is not None:
        values = values + attention.word_values(words.masked_fill(~mask[..., None], 0.0))
    assert attended.shape == features.shape
    big = torch.finfo(values.dtype).max
    low = values.masked_fill(~mask[..., None], big).amin(dim=1)[:, :, None, None]
    high = values.masked_fill(~mask[..., None], -big).amax(dim=1)[:, :, None, None]
    assert (attended >= low - 1e-5).all() and (attended <= high + 1e-5).all()


@given(attention_cases())
def test_channels_last_features_give_the_same_results_in_their_layout(case):
    attention, features, texture, mask, words = case
    attended, gamma = attention(features, texture, mask, words)
    last = features.contiguous(memory_format=torch.channels_last)
    attended_last, gamma_last = attention(last, texture, mask, words)
    torch.testing.assert_close(attended_last, attended)
    torch.testing.assert_close(gamma_last, gamma)
    assert is_channels_last(attended_last) == is_channels_last(last)
    assert not is_channels_last(attended)
