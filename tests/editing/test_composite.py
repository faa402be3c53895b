"""Back to the original size: outside the model's square nothing changes; no edit, no change."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from editing_fixtures import bird

from textedit.data.images import fit_square, pil_to_tensor
from textedit.editing import composite_onto_original, square_box
from textedit.errors import InputError


@pytest.mark.parametrize("size", [(90, 40), (40, 90), (37, 37), (20, 13), (301, 120)])
@pytest.mark.parametrize("mode", ["difference", "mask"])
def test_an_edit_that_changes_nothing_gives_back_the_original(size, mode):
    original = bird(48).resize(size)
    seen = pil_to_tensor(fit_square(original, 32))
    zero = torch.zeros(1, 4, 4)
    out = composite_onto_original(original, square_box(*size), seen, seen.clone(), zero, mode)
    if mode == "difference":
        assert np.array_equal(np.asarray(out), np.asarray(original))
    else:  # β = 0 everywhere keeps the original whatever the edit
        edited = torch.rand(3, 32, 32) * 2 - 1
        out = composite_onto_original(original, square_box(*size), seen, edited, zero, mode)
        assert np.array_equal(np.asarray(out), np.asarray(original))


def test_the_change_lands_in_the_centre_square_only():
    original = bird(48).resize((120, 60))
    seen = pil_to_tensor(fit_square(original, 32))
    edited = (seen + 0.5).clamp(-1, 1)  # brighter everywhere
    out = np.asarray(
        composite_onto_original(original, square_box(120, 60), seen, edited), dtype=int
    )
    before = np.asarray(original, dtype=int)
    assert np.array_equal(out[:, :30], before[:, :30]) and np.array_equal(
        out[:, 90:], before[:, 90:]
    )
    assert (out[:, 30:90] - before[:, 30:90]).mean() > 20


def test_mask_mode_takes_the_edit_where_beta_is_one():
    original = bird(48).resize((64, 64))
    seen = pil_to_tensor(fit_square(original, 32))
    white = torch.ones(3, 32, 32)
    out = composite_onto_original(original, (0, 0, 64), seen, white, torch.ones(1, 4, 4), "mask")
    assert np.asarray(out).min() == 255


def test_mask_mode_needs_a_map_and_modes_are_checked():
    original = bird(32)
    seen = pil_to_tensor(original)
    with pytest.raises(InputError, match="difference"):
        composite_onto_original(original, (0, 0, 32), seen, seen, None, "mask")
    with pytest.raises(InputError, match="one of"):
        composite_onto_original(original, (0, 0, 32), seen, seen, None, "blend")
