"""The ``flowers`` family: one flower head on a stem, after Oxford-102.

Parts: petals, centre, stem, leaves. Object coordinates: the centre of the flower head at
the origin, y down along the stem, one unit about the width of a large flower head. The
head is seen at a slant (``squash`` flattens it vertically).
"""

from __future__ import annotations

import copy

import numpy as np

from textedit.data.synthetic.birds import shade
from textedit.data.synthetic.families import Family, Part, register_family
from textedit.data.synthetic.geometry import Frame, Layer, circle, ellipse, segment

__all__ = ["FLOWERS"]


def sample_shape(rng: np.random.Generator) -> dict[str, float]:
    return {
        "cx": float(rng.uniform(0.4, 0.6)),
        "cy": float(rng.uniform(0.33, 0.45)),
        "scale": float(rng.uniform(0.45, 0.58)),
        "angle": float(rng.uniform(-0.3, 0.3)),
        "flip": bool(rng.random() < 0.5),
        "petal_count": int(rng.integers(5, 9)),
        "petal_turn": float(rng.uniform(0.0, 2 * np.pi)),
        "petal_width": float(rng.uniform(0.85, 1.15)),
        "squash": float(rng.uniform(0.62, 1.0)),
        "stem_bend": float(rng.uniform(-0.3, 0.3)),
        "leaf_y": float(rng.uniform(0.55, 0.8)),
        "leaf_side": float(rng.choice([-1.0, 1.0])),
    }


def _squashed(f: Frame, squash: float) -> Frame:
    g = copy.copy(f)
    g.y = f.y / squash
    g.pixel = f.pixel / float(np.sqrt(squash))
    return g


def layers(scene, f: Frame) -> list[Layer]:
    sh, attrs = scene.shape, scene.attributes
    head = _squashed(f, sh["squash"])

    bend = sh["stem_bend"]
    stem_r = 0.022 if attrs["stem"]["size"] == "thin" else 0.045
    stem = segment(f, (0.0, 0.0), (bend, 1.7), stem_r)

    leaf_a, leaf_b = (0.16, 0.06) if attrs["leaves"]["size"] == "small" else (0.27, 0.095)
    y0 = sh["leaf_y"]
    x0 = bend * y0 / 1.7
    side = sh["leaf_side"]
    leaves = np.minimum(
        ellipse(f, x0 + side * leaf_a * 0.95, y0, leaf_a, leaf_b, -side * 0.45),
        ellipse(f, x0 - side * leaf_a * 0.95, y0 + 0.22, leaf_a, leaf_b, side * 0.45),
    )

    radius = 0.42 if attrs["petals"]["size"] == "small" else 0.56
    n = int(sh["petal_count"])
    width = 0.21 * radius * np.sqrt(7.0 / n) * sh["petal_width"]
    petal_alpha = np.zeros_like(f.x)
    petal_shade = np.ones_like(f.x)
    for k in range(n):
        t = sh["petal_turn"] + 2 * np.pi * k / n
        d = ellipse(head, 0.52 * radius * np.cos(t), 0.52 * radius * np.sin(t), 0.5 * radius, width, t)
        cov = head.coverage(d)
        # later petals lie on top: their shading hides the outlines of those below
        petal_shade = petal_shade * (1.0 - cov) + shade(head, d, 0.6 * width) * cov
        petal_alpha = petal_alpha + cov * (1.0 - petal_alpha)

    centre_r = 0.11 if attrs["centre"]["size"] == "small" else 0.18
    centre = circle(head, 0.0, 0.0, centre_r)
    seeds = 0.85 + 0.15 * np.cos(head.x * 90.0) * np.cos(head.y * 90.0)

    return [
        Layer("stem", f.coverage(stem), shade(f, stem, stem_r)),
        Layer("leaves", f.coverage(leaves), shade(f, leaves, 0.05)),
        Layer("petals", petal_alpha, petal_shade),
        Layer("centre", head.coverage(centre), shade(head, centre, 0.6 * centre_r) * seeds),
    ]


_NATURAL = {"green": 8.0, "brown": 1.5, "yellow": 1.0}
FLOWERS = register_family(
    Family(
        name="flowers",
        noun="flower",
        parts=(
            Part("petals", ("petals",), plural=True, attributes=("colour", "pattern", "size"),
                 sizes=("small", "large"), size_synonyms={"large": ("big", "wide")},
                 colour_weights={"green": 0.3, "brown": 0.4, "black": 0.3, "grey": 0.3}),
            Part("centre", ("centre", "center", "middle"), attributes=("colour", "size"),
                 sizes=("small", "large"), size_synonyms={"large": ("big",)},
                 colour_weights={"yellow": 5.0, "orange": 2.0, "brown": 2.0, "black": 1.5}),
            Part("stem", ("stem", "stalk"), attributes=("colour", "size"), sizes=("thin", "thick"),
                 colour_weights={**{c: 0.05 for c in ("red", "blue", "pink", "purple", "white",
                                                      "orange", "black", "grey")}, **_NATURAL}),
            Part("leaves", ("leaves",), plural=True, attributes=("colour", "size"),
                 sizes=("small", "large"), size_synonyms={"large": ("big",)},
                 colour_weights={**{c: 0.05 for c in ("red", "blue", "pink", "purple", "white",
                                                      "orange", "black", "grey")}, **_NATURAL}),
        ),
        main_part="petals",
        openings=("this flower has", "the flower has", "a flower with", "this is a flower with",
                  "this flower is made of", "a flower that has"),
        sample_shape=sample_shape,
        layers=layers,
        extent=(-0.95, 0.95, -0.72, 1.8),
    )
)
