"""SentenceTransformerTextEncoder: contract, offline default model, what gets saved."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from textedit.errors import InputError, TextEditError
from textedit.testing import run_conformance
from textedit_sentence_transformers import SentenceTransformerTextEncoder


@pytest.fixture(scope="module")
def encoder() -> SentenceTransformerTextEncoder:
    return SentenceTransformerTextEncoder(dict(max_tokens=8)).eval()


def test_conformance():
    run_conformance(SentenceTransformerTextEncoder(SentenceTransformerTextEncoder.example_config()))


def test_default_model_is_minilm_and_loads_offline(encoder):
    assert encoder.word_dim == encoder.sentence_dim == 384
    enc = encoder.encode(["a red bird", "a small yellow flower with a dark centre"])
    assert enc.words.shape[0] == 2 and enc.words.shape[2] == 384
    assert enc.words[0][~enc.word_mask[0]].abs().max() == 0
    torch.testing.assert_close(enc.sentence.norm(dim=-1), torch.ones(2))  # the model normalises


def test_sentence_matches_sentence_transformers_encode(encoder):
    expected = torch.as_tensor(encoder.transformer.encode(["a red bird"]))
    torch.testing.assert_close(
        encoder.encode("a red bird").sentence, expected, atol=1e-5, rtol=1e-4
    )


def test_tokenize_policy(encoder):
    tokens = encoder.tokenize(["a red bird", "this bird has a red head and white wings"])
    assert tokens.truncated.tolist() == [False, True]
    assert tokens.mask.sum(1).tolist() == [5, 8]
    with pytest.raises(InputError, match="no words"):
        encoder.tokenize(["  "])


def test_frozen_backbone_is_not_saved_and_reloads(encoder, tmp_path):
    from textedit.interfaces import TextEncoder

    small = SentenceTransformerTextEncoder(dict(output_dim=4))
    assert all(not k.startswith(("backbone", "_frozen")) for k in small.state_dict())
    assert [n for n, _ in small.named_parameters()] == ["projection.weight", "projection.bias"]
    small.save_pretrained(tmp_path / "enc")
    assert set(load_file(str(tmp_path / "enc" / "model.safetensors"))) == {
        "projection.weight",
        "projection.bias",
    }
    loaded = TextEncoder.from_pretrained(tmp_path / "enc")
    torch.testing.assert_close(loaded.encode("a red bird").words, small.encode("a red bird").words)


def test_trainable_backbone_is_saved_and_trained(tmp_path):
    encoder = SentenceTransformerTextEncoder(dict(trainable=True))
    assert any(k.startswith("backbone.") for k in encoder.state_dict())
    encoder.train()
    encoder.encode(["a red bird"]).sentence.sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.backbone.parameters())


def test_unreachable_model_says_what_to_do(tmp_path):
    with pytest.raises(TextEditError, match="local folder"):
        SentenceTransformerTextEncoder(dict(model_name_or_path="no-such-org/no-such-model-xyz"))
