"""Descriptions of generated scenes, the parser that reads them back, and true edits.

:func:`describe` writes a description of a scene that mentions a random subset of its
attributes, from varied templates and synonyms ("this bird has a red head, white wings and
a long tail.", "a blue bird with a spotted belly. its beak is short."). :func:`parse`
reads which ``(part, attribute) -> value`` a description in this language mentions, and
:func:`edit_scene` applies a description to a scene: the described attributes take the
described values, everything else stays, which is the ground truth of a manipulation.

:func:`reword` writes the same mentions in wordings the templates never use (commands,
requests, relative clauses, compound adjectives, terse lists): training-time paraphrase
augmentation for descriptions people write.

How the parser reads text (documented so that hand-written descriptions work too):

* text is lower-cased; a compound adjective ending in a part ("red-headed",
  "lemon-yellow-billed", "long-tailed") becomes a clause of its own, and two attribute
  words joined by "and" stay together ("small and brown");
* the text is cut into clauses at ``, . ; : = ! ?`` and at the words ``and``, ``with``,
  ``while``, ``but``;
* a clause that names a part (``head``, ``crown``, ``tummy``, ``tail feathers``, ``centre``
  ...) gives that part the colours (with shades: crimson, azure, ebony ...), patterns and
  sizes (longer, stubby, shorten ...) it mentions; "remove the stripes", "without spots"
  mean solid;
* a clause that names no part gives them to the part of the clause before it ("blue wings
  with spots", "make the bill longer and paint it black"), or, when it names the object ("a
  blue bird", "this flower is mostly pink") or says "mostly"/"overall", to the family's main
  part (the bird's body, the petals);
* a part named without attributes shares those of the part joined to it by "and": "make the
  wings and tail black", "a yellow crown and chest";
* a clause with a colour, pattern or size but no part the family has, whose other words are
  unknown ("flight feathers: red", "blue legs") is refused with an
  :class:`~textedit.errors.InputError` naming those words, never given to another part; a
  later mention overrides an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from textedit.data.synthetic.families import PATTERN_WORDS, Family, Part, get_family
from textedit.data.synthetic.palette import COLOUR_SYNONYMS
from textedit.data.synthetic.scene import Scene, weighted_choice
from textedit.errors import InputError
from textedit.text import split_words
from textedit.text.description_words import DESCRIPTION_SYNONYMS, DESCRIPTION_WORDS, NOUN_WORDS

__all__ = ["Description", "describe", "describe_many", "reword", "parse", "edit_scene", "Edit"]

Mentions = dict[tuple[str, str], str]

_CLAUSE_BREAK = re.compile(r"([,.;:=!?]|\b(?:and|with|while|but)\b)")
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


def reword(mentions: Mapping[tuple[str, str], str], family: str | Family, rng: np.random.Generator) -> str:
    """The same ``(part, attribute) -> value`` mentions in wordings :func:`describe` never uses.

    For training-time paraphrase augmentation (``data.reword``): commands ("make the head
    red", "give it a long tail", "change the wings to white"), requests ("i'd like the belly
    to be blue", "could you make ..."), relative clauses ("a bird whose wings are white"),
    compound adjectives ("a red-headed, long-tailed bird"), terse lists ("head: red. wings
    white") and reordered predicates ("white are its wings"), one style per description or
    one per part. Colours stay the eleven colour names: shades reach them through the
    vocabulary's synonyms. The text means exactly ``mentions``; it is not meant to be read
    back by :func:`parse` (the caller keeps the mentions).
    """
    fam = get_family(family)
    by_part: dict[str, dict[str, str]] = {}
    for (part, attribute), value in mentions.items():
        by_part.setdefault(part, {})[attribute] = value
    if not by_part:
        raise ValueError("reword needs at least one mention")
    order = [fam.part(name) for name in by_part]
    order = [order[int(i)] for i in rng.permutation(len(order))]
    style = _pick(rng, ("command", "request", "relative", "compound", "terse", "mixed"))
    phrases = [_reworded(part, by_part[part.name], fam, style, rng) for part in order]
    if style == "relative":
        text = f"{_pick(rng, ('a', 'the', 'this'))} {fam.noun} " + " and ".join(phrases)
    elif style == "compound":
        compounds = [p for p in phrases if p.startswith("-")]
        rest = [p for p in phrases if not p.startswith("-")]
        text = f"{_article(compounds[0][1:]) if compounds else 'a'} "
        text += ", ".join(p[1:] for p in compounds) + f" {fam.noun}" if compounds else f"{fam.noun}"
        if rest:
            text += " with " + " and ".join(rest)
    else:
        joiner = _pick(rng, (", ", " and ", ". ", "; ")) if style != "mixed" else ". "
        text = joiner.join(phrases)
    if style == "command" and rng.random() < 0.3:
        text = f"please {text}"
    text = " ".join(text.split())
    end = "?" if text.startswith("could you") else _pick(rng, (".", "", "!" if style == "command" else "."))
    text += end
    return text[0].upper() + text[1:] if rng.random() < 0.5 else text


def _adjectives(part: Part, attrs: Mapping[str, str], rng: np.random.Generator) -> list[str]:
    words = []
    if "size" in attrs:
        words.append(_size_word(part, attrs["size"], rng))
    if "pattern" in attrs:
        words.append(_pick(rng, PATTERN_WORDS[attrs["pattern"]][0]))
    if "colour" in attrs:
        words.append(attrs["colour"])
    return words


def _derived(noun: str) -> str | None:
    """``head`` -> ``headed``, ``wings`` -> ``winged``, ``belly`` -> ``bellied``; None for a
    noun of several words or an irregular plural (``leaves``)."""
    if " " in noun or noun.endswith("ves"):
        return None
    stem = noun[:-1] if _plural(noun) else noun
    return stem[:-1] + "ied" if stem.endswith("y") else stem + "ed"


def _reworded(part: Part, attrs: Mapping[str, str], fam: Family, style: str, rng: np.random.Generator) -> str:
    """One part's mentions in ``style`` (``-`` marks a compound adjective for the caller)."""
    noun = _pick(rng, part.words)
    be = "are" if _plural(noun) else "is"
    adjs = _adjectives(part, attrs, rng)
    adj = _pick(rng, (" and ".join(adjs), " ".join(adjs)))
    if style == "mixed":
        style = _pick(rng, ("command", "request", "terse", "reordered"))
    if style == "compound":
        derived = _derived(noun)
        if derived and len(adjs) == 1:
            return f"-{adjs[0]}-{derived}"
        return f"{' '.join(adjs)} {noun}"
    if style == "command":
        if set(attrs) == {"colour"} and rng.random() < 0.6:
            verb = _pick(rng, ("turn", "paint", "colour", "color", "dye"))
            if rng.random() < 0.3:
                return f"change the {noun} to {attrs['colour']}"
            return f"{verb} {_pick(rng, ('the', 'its'))} {noun} {attrs['colour']}"
        if rng.random() < 0.35:
            phrase = f"{' '.join(adjs)} {noun}"
            return f"give it {phrase if _plural(noun) else _article(phrase) + ' ' + phrase}"
        return f"make {_pick(rng, ('the', 'its'))} {noun} {adj}"
    if style == "request":
        return _pick(
            rng,
            (
                f"i'd like the {noun} to be {adj}",
                f"i want the {noun} {adj}",
                f"the {noun} should be {adj}",
                f"could you make the {noun} {adj}",
                f"let the {noun} be {adj}",
            ),
        )
    if style == "relative":
        return _pick(rng, (f"whose {noun} {be} {adj}", f"with {noun} that {'are' if be == 'are' else 'is'} {adj}"))
    if style == "terse":
        return _pick(rng, (f"{noun}: {adj}", f"{noun} {adj}", f"{' '.join(adjs)} {noun}"))
    return f"{adj} {be} {_pick(rng, ('its', 'the'))} {noun}"  # reordered


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
    """The ``(part, attribute) -> value`` pairs a description mentions (see the module doc).

    Raises:
        InputError: a clause gives a colour, pattern or size but names no part this family
            has, and the words that might name it are unknown ("flight feathers: red"):
            the message names them, instead of a silent guess.
    """
    fam = get_family(family)
    lexicon = _lexicon(fam)
    text = lexicon.compound.sub(lambda m: _compound_clause(m, lexicon), text.lower())
    text = lexicon.adjective_pair.sub(r"\1 ", text)
    pieces = _CLAUSE_BREAK.split(text)
    # pieces alternate: clause, separator, clause, ...
    clauses = [(pieces[i], pieces[i - 1] if i else "") for i in range(0, len(pieces), 2)]
    out: dict[tuple[str, str], str] = {}

    def assign(part: Part, found: Mapping[str, str]) -> None:
        for attribute, value in found.items():
            if attribute in part.attributes:
                out[(part.name, attribute)] = value

    previous: Part | None = None
    previous_found: dict[str, str] = {}
    # parts named without attributes, each with the attributes of the clause joined to it by
    # "and" before it: "a red crown and chest" gives them to the chest unless a later clause
    # does ("make the wings and tail black", "a back with spots")
    pending: list[tuple[Part, dict[str, str]]] = []
    unplaced: list[str] = []  # unknown words of the last clause that named no known part

    def flush() -> None:
        for part, before in pending:
            assign(part, before)
        pending.clear()

    for clause, separator in clauses:
        words = split_words(clause)
        if not words:
            continue
        joined = separator.strip() == "and"
        part = _find_part(words, lexicon.nouns)
        inherited = False
        if part is None:
            unknown = [w for w in words if w not in lexicon.known]
            if not lexicon.attribute_words & set(words):
                if unknown:  # "flight feathers: red" must not colour the part before
                    flush()
                    previous, unplaced = None, unknown
                continue
            if fam.noun in words or "creature" in words or _OVERALL & set(words):
                part = fam.part(fam.main_part)
            elif unknown or previous is None:
                unknown = unknown or unplaced
                what = ", ".join(map(repr, unknown))
                raise InputError(
                    f"cannot tell which part of the {fam.noun} {clause.strip()!r} is about"
                    + (f": {what} {'names' if len(unknown) == 1 else 'name'} no part" if unknown else "")
                    + f"; name one of {', '.join(w for p in fam.parts for w in p.words)}"
                )
            else:
                part, inherited = previous, True
        found = _attributes(words, part, lexicon)
        if not found:
            if not joined:
                flush()
            pending.append((part, previous_found if joined else {}))
            previous, previous_found = part, {}
            continue
        if inherited:  # "small and brown", "with spots": the part of the clause before
            pending[:] = [(p, b) for p, b in pending if p is not part]
        elif joined:  # "make the wings and tail black"
            for waiting, _ in pending:
                assign(waiting, found)
            pending.clear()
        else:
            flush()
        assign(part, found)
        unplaced = []
        previous, previous_found = part, found
    flush()
    return out


@dataclass(frozen=True)
class _Lexicon:
    """What the parser knows of a family's words: part nouns (with derived forms such as
    ``headed`` and synonyms such as ``tummy``), attribute words, and harmless words."""

    nouns: dict[str, list[tuple[tuple[str, ...], Part]]]  # first word -> nouns, longest first
    derived: dict[str, str]
    colours: dict[str, str]
    patterns: dict[str, str]
    sizes: dict[str, str]
    known: frozenset[str]
    attribute_words: frozenset[str]
    #: a compound adjective ending in a part word ("red-headed", "lemon-yellow-billed")
    compound: re.Pattern
    #: "small and brown", "long and orange is the bill" (but not "red and grey body")
    adjective_pair: re.Pattern


_COMMAND_WORDS = """
make turn paint colour color dye change give let set please could would can you i d like
want should be to it them both also same one just now more less from into topped coloured
colored look looks looking remove without no lose get keep instead
"""
_NEGATIONS = {"remove", "without", "no", "lose"}


_LEXICONS: dict[tuple[str, int], _Lexicon] = {}


def _lexicon(fam: Family) -> _Lexicon:
    key = (fam.name, id(fam))
    if key not in _LEXICONS:
        _LEXICONS[key] = _build_lexicon(fam)
    return _LEXICONS[key]


def _build_lexicon(fam: Family) -> _Lexicon:
    by_word: dict[str, Part] = {w: p for p in fam.parts for w in p.words}
    by_word.update({p.name: p for p in fam.parts})
    for word, target in DESCRIPTION_SYNONYMS.items():
        if target in by_word and word not in by_word:
            by_word[word] = by_word[target]  # tummy -> belly, crowned -> head
    derived = {}
    for word, part in list(by_word.items()):
        form = _derived(word)
        if form and form not in by_word:
            by_word[form] = part  # headed, winged, bellied
        if form:
            derived[form] = part.name
    derived.update({w: p.name for w, p in by_word.items() if w.endswith("ed")})
    nouns: dict[str, list[tuple[tuple[str, ...], Part]]] = {}
    for words, part in sorted(((tuple(w.split()), p) for w, p in by_word.items()), key=lambda t: -len(t[0])):
        nouns.setdefault(words[0], []).append((words, part))
    # word -> value, the grammar's own words first, then the vocabulary's shades and forms
    colours = dict(COLOUR_SYNONYMS)
    colours.update({w: COLOUR_SYNONYMS[t] for w, t in DESCRIPTION_SYNONYMS.items() if t in COLOUR_SYNONYMS and w not in colours})
    patterns = dict(_PATTERN_LOOKUP)
    patterns.update({w: _PATTERN_LOOKUP[t] for w, t in DESCRIPTION_SYNONYMS.items() if t in _PATTERN_LOOKUP and w not in patterns})
    sizes = {}
    for p in fam.parts:
        for value in p.sizes or ():
            sizes.update({w: value for w in (value, *p.size_synonyms.get(value, ()))})
            sizes.update({w: t for w, t in DESCRIPTION_SYNONYMS.items() if t == value and w not in sizes})
    # nouns the built-in vocabulary knows but this family does not draw (feathers, legs,
    # petals for a bird) stay unknown: a clause about them is refused, not guessed
    known = (set(DESCRIPTION_WORDS) - set(NOUN_WORDS)) | set(_COMMAND_WORDS.split())
    known |= {*colours, *patterns, *sizes, fam.noun, "creature"} | {w for n in nouns.values() for ws, _ in n for w in ws}
    attributes = frozenset({*colours, *patterns, *sizes})
    adjective = "|".join(sorted(map(re.escape, attributes), key=len, reverse=True))
    noun = "|".join(re.escape(" ".join(ws)) for n in nouns.values() for ws, _ in n)
    ending = "|".join(sorted(map(re.escape, derived), key=len, reverse=True)) or "(?!)"
    return _Lexicon(
        nouns,
        derived,
        colours,
        patterns,
        sizes,
        frozenset(known),
        attributes,
        re.compile(rf"\b[a-z]+(?:-[a-z]+)*-(?:{ending})\b"),
        re.compile(
            rf"\b({adjective})\s+and\s+(?=(?:{adjective})\b(?!(?:\s+(?:{adjective}))*\s+(?:{noun})\b))"
        ),
    )


def _compound_clause(match: re.Match, lexicon: _Lexicon) -> str:
    """``"red-headed"`` -> ``" , red head , "``: a clause of its own."""
    *attrs, last = match.group(0).split("-")
    return f" , {' '.join(attrs)} {lexicon.derived[last]} , "


def _find_part(words: list[str], nouns: Mapping[str, list[tuple[tuple[str, ...], Part]]]) -> Part | None:
    """The first part noun in ``words`` (the longest where several start at one word)."""
    for i, word in enumerate(words):
        for noun, part in nouns.get(word, ()):
            if tuple(words[i : i + len(noun)]) == noun:
                return part
    return None


def _attributes(words: list[str], part: Part, lexicon: _Lexicon) -> dict[str, str]:
    found: dict[str, str] = {}
    for w in words:
        if w in lexicon.colours and "colour" in part.attributes:
            found["colour"] = lexicon.colours[w]
        elif w in lexicon.patterns and "pattern" in part.attributes:
            found["pattern"] = lexicon.patterns[w]
        elif w in lexicon.sizes and lexicon.sizes[w] in (part.sizes or ()):
            found["size"] = lexicon.sizes[w]
    if "pattern" in found and _NEGATIONS & set(words):
        found["pattern"] = "solid"  # "remove the stripes", "without spots"
    return found


def edit_scene(scene: Scene, description: str) -> Edit:
    """The true edit of ``scene`` by ``description``: described attributes changed, rest kept."""
    requested = parse(description, scene.family)
    edited = scene.with_attributes(requested)
    changed = scene.diff(edited)
    return Edit(edited, requested, changed)
