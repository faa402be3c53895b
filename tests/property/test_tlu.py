"""Property tests of the Target Localization Unit (spec section 3's invariants)."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from textedit.components.localizer.tlu import TLULocalizer
from textedit.interfaces.localizer import fuse
from textedit.testing.strategies import localizer_inputs


@st.composite
def tlu_and_inputs(draw, scale=st.sampled_from([1.0, 10.0, 1e3])):
    """A TLU with random projection weights (scaled up to saturate β) and matching inputs."""
    inputs = draw(localizer_inputs())
    c, d = inputs.coarse.shape[1], inputs.texture.shape[1]
    torch.manual_seed(draw(st.integers(0, 2**16)))
    tlu = TLULocalizer(dict(channels=c, texture_dim=d))
    with torch.no_grad():
        tlu.projection.weight.mul_(draw(scale))
    return tlu, inputs


@given(tlu_and_inputs())
def test_weights_lie_in_the_unit_interval_and_shapes_are_preserved(case):
    tlu, inputs = case
    out = tlu(**inputs.kwargs())
    b, c, h, w = inputs.coarse.shape
    assert out.weights.shape == (b, 1, h, w)
    assert out.fused.shape == (b, c, h, w)
    assert (out.weights >= 0).all() and (out.weights <= 1).all()


@given(tlu_and_inputs())
def test_fused_lies_between_coarse_and_original(case):
    tlu, inputs = case
    fused = tlu(**inputs.kwargs()).fused
    low = torch.minimum(inputs.coarse, inputs.original)
    high = torch.maximum(inputs.coarse, inputs.original)
    assert (fused >= low - 1e-6).all() and (fused <= high + 1e-6).all()


@given(tlu_and_inputs())
def test_fused_is_the_convex_combination_of_its_own_weights(case):
    tlu, inputs = case
    out = tlu(**inputs.kwargs())
    beta = out.weights
    torch.testing.assert_close(out.fused, beta * inputs.coarse + (1 - beta) * inputs.original)


@given(localizer_inputs())
def test_beta_one_gives_coarse_and_beta_zero_gives_original(inputs):
    coarse, original = inputs.coarse, inputs.original
    ones = torch.ones_like(coarse[:, :1])
    assert torch.equal(fuse(ones, coarse, original), coarse)
    assert torch.equal(fuse(torch.zeros_like(ones), coarse, original), original)


@given(localizer_inputs(channels=st.integers(1, 4), texture_dim=st.integers(1, 4)))
def test_saturated_tlu_reaches_the_endpoints(inputs):
    """A positive (negative) logit everywhere drives β to 1 (0): F = C (F_x)."""
    c, d = inputs.coarse.shape[1], inputs.texture.shape[1]
    coarse = inputs.coarse.abs() + 1.0
    texture = inputs.texture.abs() + 1.0
    tlu = TLULocalizer(dict(channels=c, texture_dim=d))
    for sign, expected in ((1.0, coarse), (-1.0, inputs.original)):
        with torch.no_grad():
            tlu.projection.weight.fill_(sign * 1e3)
        out = tlu(coarse, inputs.original, texture)
        assert torch.equal(out.weights, torch.full_like(out.weights, (1 + sign) / 2))
        torch.testing.assert_close(out.fused, expected)
