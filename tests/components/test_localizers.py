"""The TLU equation and the swappable ``everywhere`` localizer."""

from __future__ import annotations

import torch

from textedit.components.localizer.everywhere import EverywhereLocalizer
from textedit.components.localizer.tlu import TLULocalizer
from textedit.interfaces import Localizer


def test_tlu_matches_the_equation():
    tlu = TLULocalizer(dict(channels=4, texture_dim=3))
    coarse, original, g = torch.randn(2, 4, 5, 6), torch.randn(2, 4, 5, 6), torch.randn(2, 3)
    out = tlu(coarse, original, g)
    query = g @ tlu.projection.weight.t()  # W_β g
    beta = torch.sigmoid((query[:, :, None, None] * coarse).sum(1, keepdim=True))
    torch.testing.assert_close(out.weights, beta)
    torch.testing.assert_close(out.fused, beta * coarse + (1 - beta) * original)


def test_tlu_starts_unsaturated():
    tlu = TLULocalizer(dict(channels=128, texture_dim=128))
    out = tlu(torch.randn(4, 128, 8, 8).relu(), torch.randn(4, 128, 8, 8), torch.randn(4, 128))
    assert 0.05 < out.weights.min() and out.weights.max() < 0.95


def test_everywhere_keeps_the_coarse_features():
    loc = EverywhereLocalizer(dict(channels=4, texture_dim=3))
    coarse = torch.randn(2, 4, 3, 3)
    out = loc(coarse, torch.randn(2, 4, 3, 3), torch.randn(2, 3))
    assert torch.equal(out.fused, coarse) and torch.equal(out.weights, torch.ones(2, 1, 3, 3))
    assert isinstance(loc, Localizer) and loc.num_parameters() == 0
