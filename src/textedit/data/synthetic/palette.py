"""The named colours of the generated data sets, and the colours their patterns use.

Eleven colours chosen to stay apart from one another at 64 pixels (no two share both hue
and lightness), each with the word a description uses and a few synonyms the parser reads.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PALETTE", "COLOUR_NAMES", "COLOUR_SYNONYMS", "rgb", "pattern_rgb"]

#: canonical name -> sRGB, 0-255
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (205, 32, 38),
    "orange": (242, 132, 24),
    "yellow": (246, 214, 42),
    "green": (46, 150, 64),
    "blue": (38, 84, 204),
    "purple": (122, 52, 164),
    "pink": (242, 136, 186),
    "brown": (124, 78, 40),
    "black": (28, 28, 30),
    "white": (242, 242, 236),
    "grey": (134, 134, 134),
}

COLOUR_NAMES: tuple[str, ...] = tuple(PALETTE)

#: word -> canonical colour; every canonical name maps to itself
COLOUR_SYNONYMS: dict[str, str] = {
    **{name: name for name in PALETTE},
    "gray": "grey",
    "violet": "purple",
    "crimson": "red",
    "scarlet": "red",
    "golden": "yellow",
    "tan": "brown",
}


def rgb(name: str) -> np.ndarray:
    """The colour ``name`` as a float32 array of 3 values in [0, 1]."""
    return np.asarray(PALETTE[name], dtype=np.float32) / 255.0


def pattern_rgb(name: str) -> np.ndarray:
    """The colour that stripes and spots take on a part coloured ``name``.

    A darker shade of a light colour, a lighter shade of a dark one, so that a pattern stays
    visible whatever the colour.
    """
    base = rgb(name)
    luminance = float(base @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    if luminance > 0.35:
        return base * 0.45
    return base * 0.45 + 0.55
