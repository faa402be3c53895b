"""Descriptions of generated scenes, the parser that reads them back, and true edits.

:func:`describe` writes a description of a scene that mentions a random subset of its
attributes, from varied templates and synonyms ("this bird has a red head, white wings and
a long tail.", "a blue bird with a spotted belly. its beak is short."). :func:`parse`
reads which ``(part, attribute) -> value`` a description in this language mentions, and
:func:`edit_scene` applies a description to a scene: the described attributes take the
described values, everything else stays, which is the ground truth of a manipulation.

How the parser reads text (documented so that hand-written descriptions work too):

* text is lower-cased and cut into clauses at ``, . ; ! ?`` and at the words ``and``,
  ``with``, ``while``, ``but``;
* a clause that names a part (``head``, ``tail feathers``, ``centre`` ...) gives that part
  the colours, patterns and sizes it mentions;
* a clause that names no part gives them to the part of the clause before it ("blue wings
  with spots"), or, when it names the object ("a blue bird", "this flower is mostly pink")
  or says "mostly"/"overall", to the family's main part (the bird's body, the petals);
* words the family does not know are ignored; a later mention overrides an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from textedit.data.synthetic.families import PATTERN_WORDS, Family, Part, get_family
from textedit.data.synthetic.palette import COLOUR_SYNONYMS
from textedit.data.synthetic.scene import Scene, weighted_choice
from textedit.text import split_words

__all__ = ["Description", "describe", "describe_many", "parse", "edit_scene", "Edit"]

Mentions = dict[tuple[str, str], str]

_CLAUSE_BREAK = re.compile(r"[,.;!?]|\b(?:and|with|while|but)\b")
_OVERALL = {"mostly", "overall", "entirely", "completely"}
_PATTERN_LOOKUP = {
    word: pattern for pattern, (adjs, nouns) in PATTERN_WORDS.items() for word in (*adjs, *nouns)
}


@dataclass(frozen=True)
class Description:
    """A generated description and the attribute values it mentions."""

    text: str
    mentions: Mapping[tuple[str, str], str]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Edit:
    """The result of applying a description to a scene.

    Attributes:
        scene: the edited scene.
        requested: every ``(part, attribute) -> value`` the description asks for.
        changed: ``(part, attribute) -> (before, after)`` for those that differ from before.
    """

    scene: Scene
    requested: Mapping[tuple[str, str], str]
    changed: Mapping[tuple[str, str], tuple[str, str]]

    @property
    def changed_parts(self) -> tuple[str, ...]:
        """Parts whose look changes, in the family's part order."""
        parts = {p for p, _ in self.changed}
        return tuple(p for p in get_family(self.scene.family).part_names if p in parts)


# --------------------------------------------------------------------------- writing


def describe(scene: Scene, rng: np.random.Generator) -> Description:
    """A description of ``scene`` mentioning a random subset of its attributes (at least one)."""
    fam = get_family(scene.family)
    chosen = _choose_mentions(scene, fam, rng)
    mentions: Mentions = {}
    for part, attrs in chosen:
        for a in attrs:
            mentions[(part.name, a)] = scene.get(part.name, a)

    main = fam.part(fam.main_part)
    lead = None  # "a blue bird with ..." carries the main part's colour on the noun
    if chosen[0][0] is main and chosen[0][1] == ["colour"] and rng.random() < 0.6:
        lead, chosen = chosen[0], chosen[1:]

    sentences: list[str] = []
    if lead is not None:
        colour = scene.get(main.name, "colour")
        if chosen and rng.random() < 0.6:
            first = f"{_article(colour)} {colour} {fam.noun} with"
            sentences.append(_list_sentence(first, chosen[:3], scene, rng))
            chosen = chosen[3:]
        else:
            sentences.append(f"this {fam.noun} is {_pick(rng, ('mostly', 'overall', ''))} {colour}")
    while chosen:
        take = int(rng.integers(1, 4))
        group, chosen = chosen[:take], chosen[take:]
        if rng.random() < 0.65 or not sentences and len(group) > 1:
            openings = fam.openings
            if sentences:
                openings = ("it has", "it also has", f"the {fam.noun} also has", *openings)
            sentences.append(_list_sentence(_pick(rng, openings), group, scene, rng))
        else:
            sentences.append(" and ".join(_predicate(p, attrs, scene, rng) for p, attrs in group))
    text = ". ".join(" ".join(s.split()) for s in sentences) + "."
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return Description(text, mentions)


def describe_many(scene: Scene, rng: np.random.Generator, n: int) -> list[Description]:
    """``n`` descriptions of ``scene``, distinct where the grammar allows."""
    out: list[Description] = []
    seen: set[str] = set()
    for _ in range(4 * n):
        d = describe(scene, rng)
        if d.text not in seen:
            seen.add(d.text)
            out.append(d)
        if len(out) == n:
            return out
    while len(out) < n:
        out.append(describe(scene, rng))
    return out


def _choose_mentions(scene: Scene, fam: Family, rng: np.random.Generator) -> list[tuple[Part, list[str]]]:
    k = 1 + weighted_choice(rng, (0.15, 0.35, 0.3, 0.2))
    order = rng.permutation(len(fam.parts))[: min(k, len(fam.parts))]
    chosen = []
    for i in order:
        part = fam.parts[int(i)]
        attrs = []
        for a in ("size", "pattern", "colour"):
            if a not in part.attributes:
                continue
            p = {"colour": 0.85, "size": 0.45}.get(a, 0.5 if scene.get(part.name, a) != "solid" else 0.1)
            if rng.random() < p:
                attrs.append(a)
        if not attrs:
            attrs = ["colour"]
        chosen.append((part, attrs))
    return chosen


def _pick(rng: np.random.Generator, options) -> str:
    return options[min(int(rng.random() * len(options)), len(options) - 1)]


def _plural(noun: str) -> bool:
    # every plural part noun of the built-in families ends in "s" ("wings", "tail feathers")
    return noun.endswith("s")


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _size_word(part: Part, value: str, rng: np.random.Generator) -> str:
    return _pick(rng, (value, *part.size_synonyms.get(value, ())))


def _noun_phrase(part: Part, attrs: list[str], scene: Scene, rng: np.random.Generator) -> str:
    words = []
    pattern = scene.get(part.name, "pattern") if "pattern" in attrs else None
    tail = ""
    if "size" in attrs:
        words.append(_size_word(part, scene.get(part.name, "size"), rng))
    if pattern is not None:
        adjs, nouns = PATTERN_WORDS[pattern]
        if nouns and rng.random() < 0.35:
            tail = f" with {_pick(rng, nouns)}"
        else:
            words.append(_pick(rng, adjs))
    if "colour" in attrs:
        words.append(scene.get(part.name, "colour"))
    noun = _pick(rng, part.words)
    phrase = " ".join([*words, noun])
    if not _plural(noun):
        phrase = f"{_article(phrase)} {phrase}"
    return phrase + tail


def _list_sentence(opening: str, group, scene: Scene, rng: np.random.Generator) -> str:
    phrases = [_noun_phrase(p, attrs, scene, rng) for p, attrs in group]
    if len(phrases) == 1:
        body = phrases[0]
    else:
        body = ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return f"{opening} {body}"


def _predicate(part: Part, attrs: list[str], scene: Scene, rng: np.random.Generator) -> str:
    noun = _pick(rng, part.words)
    subject = f"{_pick(rng, ('its', 'the'))} {noun} {'are' if _plural(noun) else 'is'}"
    words = []
    if "size" in attrs:
        words.append(_size_word(part, scene.get(part.name, "size"), rng))
    if "colour" in attrs:
        words.append(scene.get(part.name, "colour"))
    tail = ""
    if "pattern" in attrs:
        adjs, nouns = PATTERN_WORDS[scene.get(part.name, "pattern")]
        if nouns and words and rng.random() < 0.5:
            tail = f" with {_pick(rng, nouns)}"
        else:
            words.insert(len(words) - ("colour" in attrs), _pick(rng, adjs))
    # "small and brown": the parser gives a part-less clause to the part before it
    return f"{subject} {' and '.join(words)}{tail}"


# --------------------------------------------------------------------------- reading


def parse(text: str, family: str | Family) -> dict[tuple[str, str], str]:
    """The ``(part, attribute) -> value`` pairs a description mentions (see the module doc)."""
    fam = get_family(family)
    nouns = sorted(
        ((tuple(w.split()), p) for p in fam.parts for w in p.words), key=lambda t: -len(t[0])
    )
    out: dict[tuple[str, str], str] = {}
    previous: Part | None = None
    for clause in _CLAUSE_BREAK.split(text.lower()):
        words = split_words(clause)
        if not words:
            continue
        part = _find_part(words, nouns)
        if part is None:
            if fam.noun in words or _OVERALL & set(words):
                part = fam.part(fam.main_part)
            else:
                part = previous
        if part is None:
            continue
        found = _attributes(words, part)
        if found or _find_part(words, nouns) is not None:
            previous = part
        for attribute, value in found.items():
            out[(part.name, attribute)] = value
    return out


def _find_part(words: list[str], nouns) -> Part | None:
    for i in range(len(words)):
        for noun, part in nouns:
            if tuple(words[i : i + len(noun)]) == noun:
                return part
    return None


def _attributes(words: list[str], part: Part) -> dict[str, str]:
    found: dict[str, str] = {}
    sizes = {}
    if part.sizes:
        for value in part.sizes:
            for w in (value, *part.size_synonyms.get(value, ())):
                sizes[w] = value
    for w in words:
        if w in COLOUR_SYNONYMS and "colour" in part.attributes:
            found["colour"] = COLOUR_SYNONYMS[w]
        elif w in _PATTERN_LOOKUP and "pattern" in part.attributes:
            found["pattern"] = _PATTERN_LOOKUP[w]
        elif w in sizes and "size" in part.attributes:
            found["size"] = sizes[w]
    return found


def edit_scene(scene: Scene, description: str) -> Edit:
    """The true edit of ``scene`` by ``description``: described attributes changed, rest kept."""
    requested = parse(description, scene.family)
    edited = scene.with_attributes(requested)
    changed = scene.diff(edited)
    return Edit(edited, requested, changed)
