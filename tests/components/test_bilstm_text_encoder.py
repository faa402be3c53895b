"""BiLSTMTextEncoder: tokenisation policy, padding, sentence feature, save/load."""

from __future__ import annotations

import pytest
import torch

from textedit.components.text_encoder.bilstm import BiLSTMTextEncoder
from textedit.errors import InputError
from textedit.interfaces import TextEncoder

WORDS = ("this", "bird", "has", "a", "red", "head", "and", "white", "wings", "blue")


@pytest.fixture
def encoder() -> BiLSTMTextEncoder:
    return BiLSTMTextEncoder(
        dict(vocabulary=WORDS, embedding_dim=8, hidden_dim=5, max_words=6)
    ).eval()


def test_tokenize_counts_unknown_and_flags_truncation(encoder):
    tokens = encoder.tokenize(["a red bird", "this bird has a huge red head and wings"])
    assert tokens.ids.shape == (2, 6)
    assert tokens.mask.sum(1).tolist() == [3, 6]
    assert tokens.unknown.tolist() == [0, 1]  # "huge"
    assert tokens.truncated.tolist() == [False, True]
    assert tokens.ids[0, 3:].eq(0).all()


@pytest.mark.parametrize("text", ["", "  ", "?!"])
def test_empty_description_is_an_input_error(encoder, text):
    with pytest.raises(InputError, match="no words"):
        encoder.tokenize([text])


def test_word_features_are_zero_at_padding_and_padding_changes_nothing(encoder):
    alone = encoder.encode("a red bird")
    batch = encoder.encode(["a red bird", "this bird has a red head and white wings"])
    assert batch.words.shape == (2, 6, 10)
    assert batch.words[0, 3:].abs().max() == 0
    torch.testing.assert_close(batch.words[0, :3], alone.words[0])
    torch.testing.assert_close(batch.sentence[0], alone.sentence[0])


def test_sentence_is_last_state_of_both_directions(encoder):
    enc = encoder.encode("a red bird with blue wings")
    valid = int(enc.word_mask.sum())
    hidden = encoder.config.hidden_dim
    torch.testing.assert_close(enc.sentence[0, :hidden], enc.words[0, valid - 1, :hidden])
    torch.testing.assert_close(enc.sentence[0, hidden:], enc.words[0, 0, hidden:])


def test_save_load_keeps_the_vocabulary(encoder, tmp_path):
    encoder.save_pretrained(tmp_path / "enc")
    loaded = TextEncoder.from_pretrained(tmp_path / "enc").eval()
    assert isinstance(loaded, BiLSTMTextEncoder)
    assert loaded.vocabulary.words == list(WORDS)
    torch.testing.assert_close(
        loaded.encode("a blue bird").words, encoder.encode("a blue bird").words
    )


def test_gradients_reach_the_embeddings(encoder):
    encoder.train()
    enc = encoder.encode(["a red bird", "white wings"])
    (enc.words.sum() + enc.sentence.sum()).backward()
    assert encoder.embedding.weight.grad.abs().sum() > 0
    assert encoder.embedding.weight.grad[0].abs().sum() == 0  # <pad> never read


def test_synonyms_read_as_the_word_they_name_and_are_saved(tmp_path):
    synonyms = {"crimson": "red", "winged": "wings", "red": "blue", "teal": "turquoise"}
    encoder = BiLSTMTextEncoder(
        dict(vocabulary=WORDS, synonyms=synonyms, embedding_dim=8, hidden_dim=5)
    ).eval()
    plain = encoder.tokenize(["a red bird with white wings"])
    said = encoder.tokenize(["a crimson bird with white winged"])
    assert said.ids.tolist() == [[encoder.vocabulary.id(w) for w in ("a", "red", "bird", "with", "white", "wings")]]
    assert said.ids.tolist() == plain.ids.tolist() and said.unknown.tolist() == [1]  # "with"
    # a known word is never redirected; a synonym of an unknown word is ignored
    assert encoder.vocabulary.id("red") != encoder.vocabulary.id("blue")
    assert "teal" not in encoder.vocabulary and "crimson" in encoder.vocabulary
    assert encoder.vocabulary.unknown_words("a teal crimson bird") == ["teal"]
    encoder.save_pretrained(tmp_path / "enc")
    loaded = TextEncoder.from_pretrained(tmp_path / "enc")
    assert loaded.vocabulary == encoder.vocabulary
    assert loaded.tokenize(["a crimson bird"]).ids.tolist() == encoder.tokenize(["a red bird"]).ids.tolist()


def test_the_lstm_runs_in_its_weights_precision_under_cpu_autocast():
    """CPU autocast would run it as one bfloat16 matmul per step (slower, and rounded): the
    encoding under autocast is the float32 one, exactly, with gradients."""
    from textedit.layers import PackedBiLSTM

    torch.manual_seed(0)
    lstm = PackedBiLSTM(6, 4)
    x = torch.randn(3, 5, 6, requires_grad=True)
    mask = torch.arange(5)[None] < torch.tensor([5, 2, 3])[:, None]
    outputs, summary = lstm(x, mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        cast_outputs, cast_summary = lstm(x, mask)
    assert cast_outputs.dtype == cast_summary.dtype == torch.float32
    assert torch.equal(cast_outputs, outputs) and torch.equal(cast_summary, summary)
    cast_summary.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and lstm.lstm.weight_hh_l0.grad is not None
