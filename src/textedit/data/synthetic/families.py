"""Families of generated objects: their parts, each part's attributes and words.

A family (``birds``, ``flowers``) names the parts of its object in drawing-independent terms:
which attributes each part has, the values an attribute takes, the words a description uses
for them and how likely each value is when a scene is sampled. The geometry lives beside it
(:mod:`.birds`, :mod:`.flowers`); the renderer and the grammar read only this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from textedit.data.synthetic.palette import COLOUR_NAMES
from textedit.errors import InputError

__all__ = [
    "ATTRIBUTES",
    "PATTERNS",
    "PATTERN_WORDS",
    "Part",
    "Family",
    "FAMILIES",
    "get_family",
    "register_family",
]

#: attribute kinds, in the order a description puts its adjectives (size, pattern, colour)
ATTRIBUTES = ("size", "pattern", "colour")
PATTERNS = ("solid", "striped", "spotted")

#: pattern -> (adjectives, nouns used after "with"); the first adjective is the usual one
PATTERN_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "solid": (("plain", "solid"), ()),
    "striped": (("striped", "stripy", "barred"), ("stripes", "bars")),
    "spotted": (("spotted", "speckled", "dotted"), ("spots", "speckles", "dots")),
}


@dataclass(frozen=True)
class Part:
    """One part of an object.

    Attributes:
        name: canonical name (``"wings"``); also the key in scenes and masks.
        words: nouns a description may use for it; the first is the usual one. Multi-word
            nouns (``"tail feathers"``) are allowed.
        plural: whether the nouns are plural (``"the wings are"``).
        attributes: which of ``colour``, ``pattern``, ``size`` the part has.
        sizes: the two size values, small first (``("short", "long")``), when it has a size.
        size_synonyms: extra words for a size value (``{"short": ("small",)}``).
        colour_weights: relative sampling weight of a colour (default 1 for every colour).
    """

    name: str
    words: tuple[str, ...]
    plural: bool = False
    attributes: tuple[str, ...] = ("colour",)
    sizes: tuple[str, str] | None = None
    size_synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    colour_weights: Mapping[str, float] = field(default_factory=dict)

    def values(self, attribute: str) -> tuple[str, ...]:
        """The values ``attribute`` can take on this part."""
        if attribute == "colour":
            return COLOUR_NAMES
        if attribute == "pattern":
            return PATTERNS
        if attribute == "size" and self.sizes:
            return self.sizes
        raise KeyError(f"part {self.name!r} has no attribute {attribute!r}")


@dataclass(frozen=True)
class Family:
    """A kind of generated object.

    Attributes:
        name: registry key (``"birds"``).
        noun: the object noun (``"bird"``); a colour on the noun itself (``"a blue bird"``,
            ``"this bird is mostly blue"``) is read as the colour of ``main_part``.
        parts: the parts in a fixed order (the order of masks and label ids, 1-based).
        main_part: the part that carries the object's overall colour.
        openings: sentence openings a description starts with.
        sample_shape: ``rng -> dict`` of pose and shape parameters (see the geometry module).
        layers: ``(scene, frame) -> list[Layer]``, the drawing, back to front.
        extent: ``(x0, x1, y0, y1)``, a box in object coordinates that holds every shape
            of every scene (only the pixels it covers are drawn).
    """

    name: str
    noun: str
    parts: tuple[Part, ...]
    main_part: str
    openings: tuple[str, ...]
    sample_shape: Callable[[Any], dict[str, float]]
    layers: Callable[[Any, Any], list[Any]]
    extent: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0)

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(f"family {self.name!r} has no part {name!r}; parts: {self.part_names}")

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)

    def slots(self) -> list[tuple[str, str]]:
        """Every ``(part, attribute)`` pair of the family."""
        return [(p.name, a) for p in self.parts for a in ATTRIBUTES if a in p.attributes]


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` (a name can be registered once)."""
    if family.name in FAMILIES:
        raise ValueError(f"a family named {family.name!r} is already registered")
    FAMILIES[family.name] = family
    return family


def get_family(name: str | Family) -> Family:
    """The family called ``name``.

    Raises:
        InputError: no such family; the message lists the known ones.
    """
    if isinstance(name, Family):
        return name
    _load_builtins()
    try:
        return FAMILIES[name]
    except KeyError:
        raise InputError(
            f"unknown family {name!r}; choose one of: {', '.join(sorted(FAMILIES))}"
        ) from None


def _load_builtins() -> None:
    # The geometry modules register their family on import.
    # lazy: birds and flowers import this module to register themselves (a cycle at module level)
    from textedit.data.synthetic import birds, flowers  # noqa: F401
