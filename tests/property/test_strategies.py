"""The public strategies in textedit.testing.strategies draw what they promise."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from textedit.interfaces import TokenBatch
from textedit.testing import strategies as ts


@given(ts.images(batch_size=st.integers(1, 3), size=st.integers(1, 9), channels=2))
def test_images_are_floats_in_minus_one_one(image):
    assert image.dtype == torch.float32
    assert image.dim() == 4 and image.shape[1] == 2 and image.shape[2] == image.shape[3]
    assert image.min() >= -1 and image.max() <= 1


@given(ts.masks(batch_size=3, length=st.integers(1, 70)))
def test_masks_have_a_real_word_in_every_row(mask):
    assert mask.dtype == torch.bool and mask.shape[0] == 3
    assert mask.any(dim=1).all()


@given(ts.masks(prefix=True))
def test_prefix_masks_pad_only_at_the_end(mask):
    lengths = mask.sum(1, keepdim=True)
    assert torch.equal(mask, torch.arange(mask.shape[1])[None, :] < lengths)


@given(ts.token_batches(vocab_size=st.integers(3, 20), max_length=6))
def test_token_batches_are_consistent(tokens):
    assert isinstance(tokens, TokenBatch)
    b, t = tokens.ids.shape
    assert tokens.mask.shape == (b, t) and len(tokens.texts) == b == len(tokens)
    assert tokens.mask.any(1).all()
    assert tokens.mask.sum(1).max() == t  # padded to the longest row
    assert (tokens.ids[~tokens.mask] == 0).all() and (tokens.ids[tokens.mask] >= 2).all()
    assert tokens.unknown.shape == (b,) and tokens.truncated.shape == (b,)
    for text, row, mask in zip(tokens.texts, tokens.ids, tokens.mask):
        assert text.split() == [f"w{i}" for i in row[mask].tolist()]


@given(ts.memory_attention_inputs(dtype=torch.float32))
def test_memory_attention_inputs_fit_together(x):
    b, t, big_d = x.words.shape
    n, d = x.memories.shape
    assert x.word_mask.shape == (b, t) and x.key_weight.shape == (big_d, d)
    assert {v.dtype for v in (x.words, x.memories, x.key_weight)} == {torch.float32}
    kwargs = x.kwargs(requires_grad=True)
    assert kwargs["words"].requires_grad and not kwargs["word_mask"].requires_grad
    assert kwargs["words"] is not x.words
    assert f"b={b}, t={t}, n={n}" in repr(x)


@given(ts.localizer_inputs(channels=5, texture_dim=3))
def test_localizer_inputs_fit_together(x):
    b, c, h, w = x.coarse.shape
    assert c == 5 and x.original.shape == (b, c, h, w) and x.texture.shape == (b, 3)
    assert set(x.kwargs()) == {"coarse", "original", "texture"}


@given(st.data())
def test_tensors_are_reproducible_from_the_drawn_seed(data):
    x = data.draw(ts.memory_attention_inputs(batch_size=2, length=3, slots=4))
    g = torch.Generator().manual_seed(x.seed)
    expected = torch.randn(2, 3, x.words.shape[2], generator=g, dtype=torch.float64)
    torch.testing.assert_close(x.words, expected)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
@given(data=st.data())
def test_bad_sizes_are_refused_with_a_clear_message(bad, data):
    with pytest.raises(ValueError, match="batch_size must be an int >= 1 or a hypothesis strategy"):
        data.draw(ts.images(batch_size=bad))
