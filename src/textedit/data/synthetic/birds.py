"""The ``birds`` family: a perched bird seen from the side, after CUB-200-2011.

Parts: head, body (the back and flanks), belly, wings, tail, beak. Object coordinates: the
body's centre at the origin, x towards the head, y down, one unit about a body length.
Every part is anchored at fixed points, so changing one part's size never moves another.
"""

from __future__ import annotations

import numpy as np

from textedit.data.synthetic.families import Family, Part, register_family
from textedit.data.synthetic.geometry import Frame, Layer, circle, ellipse, polygon, segment

__all__ = ["BIRDS"]

_LEG = (0.24, 0.21, 0.19)
_EYE = (0.05, 0.05, 0.06)
_GLINT = (0.95, 0.95, 0.95)


def sample_shape(rng: np.random.Generator) -> dict[str, float]:
    return {
        "cx": float(rng.uniform(0.44, 0.56)),
        "cy": float(rng.uniform(0.44, 0.56)),
        "scale": float(rng.uniform(0.41, 0.5)),
        "angle": float(rng.uniform(-0.3, 0.3)),
        "flip": bool(rng.random() < 0.5),
        "head_y": float(rng.uniform(-0.3, -0.2)),
        "body_b": float(rng.uniform(0.23, 0.29)),
        "wing_angle": float(rng.uniform(-0.2, 0.5)),
        "tail_angle": float(rng.uniform(-0.45, 0.3)),
        "leg_lean": float(rng.uniform(-0.05, 0.07)),
    }


def shade(f: Frame, d: np.ndarray, depth: float) -> np.ndarray:
    """Rounded look: darker towards the edge of a shape, with a thin dark outline."""
    body = 0.78 + 0.3 * np.clip(-d / depth, 0.0, 1.0)
    light = 1.0 - 0.12 * np.clip(f.y, -1.0, 1.0)
    return body * light * (1.0 - 0.35 * f.outline(d, 0.012))


def layers(scene, f: Frame) -> list[Layer]:
    sh, attrs = scene.shape, scene.attributes
    hy = sh["head_y"]

    tail_len = 0.3 if attrs["tail"]["size"] == "short" else 0.52
    c, s = np.cos(sh["tail_angle"]), np.sin(sh["tail_angle"])

    def turn(px: float, py: float) -> tuple[float, float]:  # about the tail's root
        px += 0.3
        return (c * px - s * py - 0.3, s * px + c * py)

    tail = polygon(
        f,
        [turn(-0.28, -0.07), turn(-0.3 - tail_len, -0.12), turn(-0.3 - tail_len, 0.08), turn(-0.28, 0.07)],
    )
    far_wing = ellipse(f, -0.01, -0.08, 0.3, 0.12, sh["wing_angle"] + 0.3)
    legs = np.minimum(
        segment(f, (0.02, 0.18), (0.05 + sh["leg_lean"], 0.44), 0.018),
        segment(f, (-0.08, 0.18), (-0.05 + sh["leg_lean"], 0.44), 0.018),
    )
    body = ellipse(f, 0.0, 0.0, 0.42, sh["body_b"])
    belly = np.maximum(body, ellipse(f, 0.04, 0.12, 0.36, 0.16))
    wing = ellipse(f, -0.07, -0.03, 0.33, 0.13, sh["wing_angle"])
    head = circle(f, 0.4, hy, 0.19)
    beak_len = 0.1 if attrs["beak"]["size"] == "short" else 0.24
    beak = polygon(f, [(0.5, hy - 0.06), (0.59 + beak_len, hy + 0.03), (0.5, hy + 0.07)])
    eye = circle(f, 0.46, hy - 0.04, 0.036)
    glint = circle(f, 0.47, hy - 0.052, 0.012)

    return [
        Layer("tail", f.coverage(tail), shade(f, tail, 0.05)),
        Layer(None, f.coverage(legs), 1.0, _LEG),
        Layer("wings", f.coverage(far_wing), 0.8 * shade(f, far_wing, 0.08)),
        Layer("body", f.coverage(body), shade(f, body, 0.2)),
        Layer("belly", f.coverage(belly), shade(f, belly, 0.12)),
        Layer("wings", f.coverage(wing), shade(f, wing, 0.08)),
        Layer("head", f.coverage(head), shade(f, head, 0.1)),
        Layer("beak", f.coverage(beak), shade(f, beak, 0.03)),
        Layer(None, f.coverage(eye), 1.0, _EYE),
        Layer(None, f.coverage(glint), 1.0, _GLINT),
    ]


BIRDS = register_family(
    Family(
        name="birds",
        noun="bird",
        parts=(
            Part("head", ("head", "crown"), attributes=("colour", "pattern")),
            Part("body", ("body", "back"), attributes=("colour", "pattern")),
            Part("belly", ("belly", "breast", "chest"), attributes=("colour", "pattern")),
            Part("wings", ("wings", "wing feathers"), plural=True,
                 attributes=("colour", "pattern")),
            Part("tail", ("tail", "tail feathers"), attributes=("colour", "size"),
                 sizes=("short", "long")),
            Part("beak", ("beak", "bill"), attributes=("colour", "size"),
                 sizes=("short", "long"), size_synonyms={"short": ("small",), "long": ()},
                 colour_weights={"black": 4, "yellow": 3, "orange": 3, "grey": 2, "brown": 2}),
        ),
        main_part="body",
        openings=("this bird has", "the bird has", "a bird with", "this is a bird with",
                  "this particular bird has", "a bird that has"),
        sample_shape=sample_shape,
        layers=layers,
        extent=(-1.0, 1.0, -0.72, 0.62),
    )
)
