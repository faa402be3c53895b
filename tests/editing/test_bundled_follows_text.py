"""The guard of the main job: the bundled model must follow the text.

On fixed held-out generated birds, asking for a part in a colour must move that part
towards that colour, and changing only the colour word must change only where the part is
drawn. A text-blind model (one that returns its input, blurs it, or paints the same colour
whatever the words) fails these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import textedit
from textedit.data.synthetic.data import SyntheticSpec
from textedit.data.synthetic.palette import PALETTE
from textedit.data.synthetic.render import render
from textedit.evaluation.sources import DEFAULT_SYNTHETIC

#: held-out images of the training recipe's data set (its test split is the last 10%)
_SPEC = SyntheticSpec(family="birds", **DEFAULT_SYNTHETIC)
_ITEMS = (_SPEC.n - 1, _SPEC.n - 2, _SPEC.n - 3, _SPEC.n - 4)
_REQUESTS = (("head", "red"), ("wings", "blue"), ("belly", "yellow"), ("body", "green"))


@pytest.fixture(scope="module")
def bundled():
    torch.manual_seed(0)
    return textedit.load()


def _part_mean(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean RGB in [0, 1] over the pixels the part covers fully."""
    core = mask > 0.99
    return image[core].reshape(-1, 3).mean(0) / 255.0


def _edit(model, image: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(model.edit(Image.fromarray(image), text).image.convert("RGB"))


def test_the_named_part_takes_the_named_colour(bundled):
    size = bundled.image_size
    hits, cases = 0, 0
    for i in _ITEMS:
        scene = _SPEC.scene(i)
        drawn = render(scene, size)
        for part, colour in _REQUESTS:
            if scene.get(part, "colour") == colour:
                continue
            out = _edit(bundled, drawn.image, f"this bird has a {colour} {part}.")
            got = _part_mean(out, drawn.part_masks[part])
            nearest = min(PALETTE, key=lambda c: np.abs(got - np.array(PALETTE[c]) / 255).sum())
            hits += nearest == colour
            cases += 1
    assert cases >= 12
    assert hits / cases >= 0.75, f"{hits} of {cases} requested part colours were drawn"


def test_only_the_colour_word_changes_only_the_part(bundled):
    size = bundled.image_size
    scene = _SPEC.scene(_ITEMS[0])
    drawn = render(scene, size)
    a = _edit(bundled, drawn.image, "this bird has a red head.").astype(np.float32) / 255
    b = _edit(bundled, drawn.image, "this bird has a blue head.").astype(np.float32) / 255
    head = drawn.part_masks["head"] > 0.99
    away = drawn.object_mask < 0.01  # the background, far from every part
    difference = np.abs(a - b).mean(-1)
    assert difference[head].mean() > 0.2, "the colour word does not reach the head"
    assert difference[away].mean() < 0.01, "the colour word changes the background"
