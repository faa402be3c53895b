"""The built-in description vocabulary of the presets: common words of bird, flower, face
and clothing descriptions. A trainer replaces it by its captions' vocabulary
(``text_encoder={"vocabulary": Vocabulary.build(captions).words}``)."""

from __future__ import annotations

__all__ = ["DESCRIPTION_WORDS", "DESCRIPTION_SYNONYMS", "NOUN_WORDS"]

_FUNCTION = """
a an the this that these those it its is are has have with and or but of on in at to from
by for as very quite mostly mainly partly slightly some all its which while also no not
small large big tiny medium long short thin thick wide narrow round pointed pointy curved
straight flat short sharp fat skinny little huge light dark bright pale deep vivid dull
shiny glossy
"""
_COLOURS = """
red blue green yellow orange purple violet pink white black grey gray brown tan beige
cream gold golden silver maroon crimson scarlet magenta lavender lilac indigo navy teal
turquoise cyan olive lime buff rust rusty chestnut rufous cinnamon ivory charcoal
colored coloured colorful colourful multicolored
"""
_PATTERNS = """
striped stripes stripe spotted spots spot speckled speckles dotted dots patterned pattern
patches patch mottled streaked streaks barred bars banded band ring rings plain solid
checkered plaid floral gradient tipped edged lined marking markings
"""
_BIRD = """
bird birds head crown forehead nape throat breast belly abdomen back wings wing feathers
feather tail tails beak bill eye eyes eyebrow eyering cheek cheeks chest flank flanks
rump legs leg feet claws neck body primaries secondaries coverts superciliary malar
"""
_FLOWER = """
flower flowers petal petals stamen stamens pistil stigma anther anthers center centre
sepal sepals stem stems leaf leaves bud buds bloom blooms filament filaments ovary
layered ruffled frilly wavy
"""
_FACE_CLOTHES = """
face hair mouth nose lips smile smiling teeth chin jaw eyebrows bangs beard mustache
man woman person young old oval cheekbones wearing shirt dress skirt pants jacket coat
sleeve sleeves sleeveless collar
"""

DESCRIPTION_WORDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        w
        for block in (_FUNCTION, _COLOURS, _PATTERNS, _BIRD, _FLOWER, _FACE_CLOTHES)
        for w in block.split()
    )
)

#: the vocabulary's nouns of objects and their parts (birds, flowers, faces, clothes)
NOUN_WORDS: frozenset[str] = frozenset(
    w
    for block in (_BIRD, _FLOWER, _FACE_CLOTHES)
    for w in block.split()
    if w not in {"layered", "ruffled", "frilly", "wavy", "young", "old", "oval", "smiling", "wearing", "sleeveless"}
)

#: word -> the word training captions use for it: colour shades onto the eleven colour
#: names, derived and singular part nouns onto the nouns, size and pattern synonyms. A
#: vocabulary applies a synonym only when it does not know the word itself (see
#: :class:`~textedit.text.vocabulary.Vocabulary`).
_SYNONYM_GROUPS: dict[str, str] = {
    "red": "crimson scarlet ruby cherry vermilion maroon burgundy rufous",
    "orange": "tangerine amber ginger rust rusty apricot copper",
    "yellow": "lemon golden gold canary mustard butter",
    "green": "emerald lime olive jade mint",
    "blue": "azure navy cobalt sapphire sky cyan teal turquoise indigo",
    "purple": "violet lilac lavender plum magenta mauve",
    "pink": "rose rosy salmon fuchsia",
    "brown": "tan chocolate chestnut cinnamon coffee beige buff bronze",
    "black": "ebony jet coal charcoal inky",
    "white": "snowy snow ivory cream milky",
    "grey": "gray ash ashy silver slate smoky",
    "head": "headed crown crowned",
    "wings": "wing winged",
    "tail": "tailed",
    "beak": "beaked billed bill",
    "belly": "bellied breasted tummy",
    "body": "bodied backed plumage",
    "bird": "creature",
    "long": "longer lengthy elongated lengthen",
    "short": "shorter stubby small shorten",
    "spotted": "spotty",
    "striped": "stripey streaked",
}

DESCRIPTION_SYNONYMS: dict[str, str] = {
    word: target for target, words in _SYNONYM_GROUPS.items() for word in words.split()
}
