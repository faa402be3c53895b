"""KeyValueMemoryBank: the MTFG read and its invariants."""

from __future__ import annotations

import pytest
import torch

from textedit.components.memory_bank.key_value import KeyValueMemoryBank
from textedit.errors import InputError


@pytest.fixture
def bank() -> KeyValueMemoryBank:
    return KeyValueMemoryBank(dict(num_slots=7, slot_dim=5, word_dim=6, backend="reference"))


def _words(b=3, t=4, d=6):
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)[:b, :t]
    return torch.randn(b, t, d) * mask[..., None], mask


def test_matches_the_equations(bank):
    words, mask = _words()
    read = bank(words, mask, return_attention=True)
    keys = bank.slots @ bank.key.weight.t()  # k_i = W_k m_i
    attention = torch.softmax(words @ keys.t(), dim=-1) * mask[..., None]
    torch.testing.assert_close(read.attention, attention)
    torch.testing.assert_close(read.texture, attention @ bank.slots)


def test_textures_are_convex_and_padding_is_zero(bank):
    words, mask = _words()
    read = bank(words, mask, return_attention=True)
    torch.testing.assert_close(read.attention.sum(-1)[mask], torch.ones(int(mask.sum())))
    assert read.texture[~mask].abs().max() == 0
    low, high = bank.slots.min(0).values, bank.slots.max(0).values
    assert (read.texture[mask] >= low - 1e-5).all() and (read.texture[mask] <= high + 1e-5).all()


def test_permuting_the_slots_changes_nothing(bank):
    words, mask = _words()
    permuted = KeyValueMemoryBank(bank.config)
    perm = torch.randperm(7)
    with torch.no_grad():
        permuted.slots.copy_(bank.slots[perm])
        permuted.key.weight.copy_(bank.key.weight)
    torch.testing.assert_close(permuted(words, mask).texture, bank(words, mask).texture)


def test_random_convex_weights_read_inside_the_hull(bank):
    _, mask = _words()
    weights = bank.sample_convex_weights(mask, generator=torch.Generator().manual_seed(3))
    again = bank.sample_convex_weights(mask, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(weights, again)
    read = bank.read(weights, mask)
    assert read.texture.shape == (3, 4, 5)
    assert read.texture[~mask].abs().max() == 0


def test_wrong_word_width_says_what_to_set(bank):
    with pytest.raises(InputError, match="memory_bank.word_dim"):
        bank(torch.randn(1, 2, 9), torch.ones(1, 2, dtype=torch.bool))


def test_memory_parameters_are_all_of_its_parameters(bank):
    assert {id(p) for p in bank.memory_parameters()} == {id(bank.slots), id(bank.key.weight)}
