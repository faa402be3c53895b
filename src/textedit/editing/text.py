"""Descriptions for an edit: normalised, checked, tokenised, and their tokens named.

Policy (on top of :mod:`textedit.text.vocabulary`, which every text encoder follows):

* Text is NFKC-normalised (full-width letters and ligatures become plain letters) and runs
  of white space become one space. Any language may be typed; only the words the model
  knows take part in the edit.
* A description that is not a string, is empty, has no word, or is longer than
  :data:`MAX_DESCRIPTION_CHARS` characters raises :class:`~textedit.errors.InputError`.
* A description whose words are *all* unknown to the model raises ``InputError`` listing
  them and some words the model does know (pass ``allow_unknown=True`` to edit anyway:
  the model then sees only unknown tokens). Some unknown words are fine: they are
  reported in :attr:`DescriptionInfo.unknown_words` and with an :class:`EditWarning`.
* A description longer than the encoder's limit is cut (the encoder's rule) and an
  :class:`EditWarning` names the words dropped.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from textedit.errors import InputError
from textedit.text.vocabulary import Vocabulary, split_words

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "EditWarning",
    "DescriptionInfo",
    "description_list",
    "normalize_description",
    "check_descriptions",
    "token_strings",
]

#: longest description accepted, in characters (far more than any model reads: the bundled
#: model reads 32 words)
MAX_DESCRIPTION_CHARS = 1000

_SPACE = re.compile(r"\s+")


class EditWarning(UserWarning):
    """Something about an edit the user should know: unknown words, a cut description."""


@dataclass(frozen=True)
class DescriptionInfo:
    """What the model reads of one description.

    Attributes:
        text: the normalised description.
        words: the tokens the model reads, in order (unknown ones included).
        unknown_words: the tokens the model does not know.
        truncated: whether the description was cut to the encoder's limit.
    """

    text: str
    words: tuple[str, ...]
    unknown_words: tuple[str, ...]
    truncated: bool


def description_list(texts: Any) -> list[Any]:
    """``texts`` as a list: one description (a ``str``) or any iterable of them; each is
    checked by :func:`normalize_description` later.

    Raises:
        InputError: neither (``None``, a number, bytes).
    """
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, Iterable) and not isinstance(texts, (bytes, bytearray)):
        return list(texts)  # a list, a tuple, a numpy array, a generator, ...
    raise InputError(
        f"descriptions must be a string or a list of strings, got {type(texts).__name__}; "
        f"e.g. 'this bird has a red head'"
    )


def normalize_description(text: Any) -> str:
    """``text`` NFKC-normalised with white space collapsed; raises for a non-string or one
    longer than :data:`MAX_DESCRIPTION_CHARS`."""
    if not isinstance(text, str):
        raise InputError(f"a description must be a string, got {type(text).__name__}")
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            f"the description is {len(text)} characters long, more than the limit of "
            f"{MAX_DESCRIPTION_CHARS}; describe the change in one sentence "
            f"(e.g. 'this bird has a red head and white wings')"
        )
    return text


def token_strings(text_encoder: Any, tokens: Any) -> list[list[str]]:
    """The token each real position of ``tokens`` (a ``TokenBatch``) stands for.

    A text encoder may define ``token_strings(tokens) -> list[list[str]]``; encoders with a
    word :class:`~textedit.text.vocabulary.Vocabulary` (the Bi-LSTM) read the words of the
    text; otherwise tokens are numbered ``#1, #2, ...``.
    """
    own = getattr(text_encoder, "token_strings", None)
    if callable(own):
        return [list(row) for row in own(tokens)]
    lengths = [int(n) for n in tokens.mask.sum(dim=1).tolist()]
    vocabulary = getattr(text_encoder, "vocabulary", None)
    out = []
    for text, length in zip(tokens.texts, lengths):
        words = split_words(text)[:length] if isinstance(vocabulary, Vocabulary) else []
        out.append(words if len(words) == length else [f"#{k + 1}" for k in range(length)])
    return out


def _unknown_in(text_encoder: Any, words: Sequence[str], unknown_count: int) -> list[str]:
    vocabulary = getattr(text_encoder, "vocabulary", None)
    if isinstance(vocabulary, Vocabulary):
        return [w for w in words if w not in vocabulary]
    return (
        [f"({unknown_count} unknown token{'s' if unknown_count != 1 else ''})"]
        if unknown_count
        else []
    )


def _known_examples(text_encoder: Any, limit: int = 12) -> str:
    vocabulary = getattr(text_encoder, "vocabulary", None)
    if not isinstance(vocabulary, Vocabulary):
        return ""
    words = vocabulary.words
    content = [w for w in words if len(w) > 2 and w.isalpha()]
    sample = content[:: max(1, len(content) // limit)][:limit]  # spread over the vocabulary
    return f"; it knows {len(words)} words, e.g. {', '.join(sample)}"


def check_descriptions(
    text_encoder: Any, texts: Sequence[Any], allow_unknown: bool = False, warn: bool = True
) -> tuple[list[DescriptionInfo], Any]:
    """Normalise, check and tokenise descriptions for an edit.

    Args:
        text_encoder: the model's text encoder (has ``tokenize``).
        texts: the descriptions.
        allow_unknown: accept a description made only of unknown words.
        warn: emit :class:`EditWarning` for unknown words and cut descriptions.

    Returns:
        ``(infos, tokens)``: one :class:`DescriptionInfo` per description and the
        ``TokenBatch`` (on the CPU).

    Raises:
        InputError: see the module docstring; the message quotes the description.
    """
    texts = [normalize_description(t) for t in texts]
    if not texts:
        raise InputError("no description given; pass at least one, e.g. 'a bird with a red head'")
    tokens = text_encoder.tokenize(texts)
    names = token_strings(text_encoder, tokens)
    infos = []
    for row, text in enumerate(texts):
        words = names[row]
        unknown_count = int(tokens.unknown[row])
        unknown = _unknown_in(text_encoder, words, unknown_count)
        shown = text if len(text) <= 60 else text[:57] + "..."
        if unknown_count and unknown_count >= len(words) and not allow_unknown:
            raise InputError(
                f"the model knows none of the words of {shown!r} (unknown: "
                f"{', '.join(unknown) or unknown_count}){_known_examples(text_encoder)}; "
                f"describe colours and parts in English, e.g. 'this bird has a red head'"
            )
        truncated = bool(tokens.truncated[row])
        if warn and unknown and unknown_count < len(words):
            warnings.warn(
                f"{shown!r}: the model does not know {', '.join(unknown)}; those words are "
                f"read as unknown and change little",
                EditWarning,
                stacklevel=4,
            )
        if warn and truncated:
            has_words = isinstance(getattr(text_encoder, "vocabulary", None), Vocabulary)
            dropped = split_words(text)[len(words) :] if has_words else []
            warnings.warn(
                f"{shown!r} is longer than the model reads ({len(words)} tokens); ignored: "
                f"{' '.join(dropped) or 'the rest'}",
                EditWarning,
                stacklevel=4,
            )
        infos.append(DescriptionInfo(text, tuple(words), tuple(unknown), truncated))
    return infos, tokens
