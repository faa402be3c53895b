"""Scenes: everything that fixes one generated image, as plain JSON-able values.

A :class:`Scene` holds the pose and shape of the object, the attribute values of every part,
the seed of its patterns and the background. Rendering a scene at any size always gives the
same picture; editing a scene changes attribute values only, so the edited picture keeps the
pose, the patterns' placement and the background.
"""

from __future__ import annotations

import bisect
import colorsys
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from textedit.data.synthetic.families import PATTERNS, Family, get_family
from textedit.data.synthetic.palette import COLOUR_NAMES
from textedit.errors import InputError

__all__ = ["Scene", "sample_scene", "weighted_choice", "BACKGROUND_KINDS", "SCENE_VERSION"]

SCENE_VERSION = 1
BACKGROUND_KINDS = ("gradient", "noise", "stripes", "horizon")


@dataclass(frozen=True)
class Scene:
    """One generated image, before drawing.

    Attributes:
        family: the family name (``"birds"``).
        shape: pose and shape parameters (position, scale, rotation, flip, and the
            family's own: wing angle, petal count ...).
        attributes: ``part -> {attribute: value}`` for every part and attribute.
        pattern_seed: places stripes and spots; kept by edits.
        background: ``kind``, ``colours`` (sRGB triples in [0, 1]), ``seed`` and kind-specific
            parameters.
    """

    family: str
    shape: Mapping[str, float]
    attributes: Mapping[str, Mapping[str, str]]
    pattern_seed: int
    background: Mapping[str, Any]

    def get(self, part: str, attribute: str) -> str:
        return self.attributes[part][attribute]

    def with_attributes(self, changes: Mapping[tuple[str, str], str]) -> "Scene":
        """A copy with ``(part, attribute) -> value`` changed; everything else kept.

        Raises:
            InputError: a part, attribute or value the family does not have.
        """
        fam = get_family(self.family)
        attrs = {p: dict(a) for p, a in self.attributes.items()}
        for (part, attribute), value in changes.items():
            try:
                allowed = fam.part(part).values(attribute)
            except KeyError as exc:
                raise InputError(str(exc.args[0])) from None
            if value not in allowed:
                raise InputError(
                    f"{part} {attribute} cannot be {value!r}; allowed: {', '.join(allowed)}"
                )
            attrs[part][attribute] = value
        return replace(self, attributes=attrs)

    def diff(self, other: "Scene") -> dict[tuple[str, str], tuple[str, str]]:
        """``(part, attribute) -> (mine, theirs)`` for every attribute that differs."""
        out = {}
        for part, attrs in self.attributes.items():
            for attribute, value in attrs.items():
                theirs = other.attributes[part][attribute]
                if theirs != value:
                    out[(part, attribute)] = (value, theirs)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reads it back."""
        return {
            "version": SCENE_VERSION,
            "family": self.family,
            "shape": dict(self.shape),
            "attributes": {p: dict(a) for p, a in self.attributes.items()},
            "pattern_seed": self.pattern_seed,
            "background": _plain(self.background),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Scene":
        version = data.get("version", SCENE_VERSION)
        if version != SCENE_VERSION:
            raise InputError(
                f"scene format version {version} is not supported (this textedit reads "
                f"version {SCENE_VERSION}); regenerate the data set with this version"
            )
        return cls(
            family=data["family"],
            shape=dict(data["shape"]),
            attributes={p: dict(a) for p, a in data["attributes"].items()},
            pattern_seed=int(data["pattern_seed"]),
            background=dict(data["background"]),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def weighted_choice(rng: np.random.Generator, weights) -> int:
    """An index drawn with probabilities proportional to ``weights`` (one uniform draw;
    much cheaper than ``rng.choice(p=...)`` for the few options used here)."""
    cumulative = list(itertools.accumulate(weights))
    return min(bisect.bisect_right(cumulative, float(rng.random()) * cumulative[-1]), len(cumulative) - 1)


def sample_scene(family: str | Family, rng: np.random.Generator) -> Scene:
    """A random scene of ``family``: pose, shape, attribute values and background."""
    fam = get_family(family)
    shape = fam.sample_shape(rng)
    attributes: dict[str, dict[str, str]] = {}
    for part in fam.parts:
        values: dict[str, str] = {}
        if "colour" in part.attributes:
            weights = [part.colour_weights.get(c, 1.0) for c in COLOUR_NAMES]
            values["colour"] = COLOUR_NAMES[weighted_choice(rng, weights)]
        if "pattern" in part.attributes:
            values["pattern"] = PATTERNS[weighted_choice(rng, (0.5, 0.25, 0.25))]
        if "size" in part.attributes and part.sizes:
            values["size"] = part.sizes[int(rng.integers(2))]
        attributes[part.name] = values
    return Scene(
        family=fam.name,
        shape=shape,
        attributes=attributes,
        pattern_seed=int(rng.integers(2**31 - 1)),
        background=_sample_background(rng),
    )


def _sample_background(rng: np.random.Generator) -> dict[str, Any]:
    hue = float(rng.random())
    colours = []
    for _ in range(3):
        h = (hue + rng.normal(0.0, 0.08)) % 1.0
        s = float(rng.uniform(0.08, 0.45))
        v = float(rng.uniform(0.42, 0.92))
        colours.append([round(c, 4) for c in colorsys.hsv_to_rgb(h, s, v)])
    return {
        "kind": BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))],
        "colours": colours,
        "seed": int(rng.integers(2**31 - 1)),
        "angle": float(rng.uniform(0.0, np.pi)),
        "frequency": float(rng.uniform(3.0, 9.0)),
        "level": float(rng.uniform(0.45, 0.8)),
    }


