"""A word vocabulary: lower-cased ``\\w+`` tokens (as AttnGAN tokenises), ``<pad>`` and ``<unk>``.

Policy, the same everywhere in textedit:

* Text is lower-cased and split into runs of word characters (Unicode letters, digits and
  ``_``); punctuation is dropped. ``"The bird's WINGS!"`` -> ``["the", "bird", "s", "wings"]``.
* A vocabulary may have **synonyms**: a word that is not itself known but names a known word
  (``crimson -> red``) takes that word's id and counts as known.
* A word not in the vocabulary becomes ``<unk>`` and is counted, never an error: the caller
  decides what to do (``textedit edit`` refuses a description made only of unknown words).
* A description longer than ``max_words`` keeps its first ``max_words`` words and is marked
  truncated.
* An empty description, or one without any word, raises :class:`~textedit.errors.InputError`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from textedit.errors import InputError

__all__ = ["Vocabulary", "split_words", "PAD", "UNK"]

PAD = "<pad>"
UNK = "<unk>"
_WORD = re.compile(r"\w+", re.UNICODE)


def split_words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Maps words to ids; id 0 is ``<pad>``, id 1 is ``<unk>``.

    Args:
        words: the known words, in id order (specials excluded; duplicates dropped).
        synonyms: ``word -> known word``; a synonym whose target is not known, or that is a
            known word itself, is ignored.
    """

    pad_id = 0
    unk_id = 1

    def __init__(self, words: Iterable[str] = (), synonyms: Mapping[str, str] | None = None):
        self._words: list[str] = [PAD, UNK]
        self._index: dict[str, int] = {PAD: 0, UNK: 1}
        for w in words:
            if w not in self._index:
                self._index[w] = len(self._words)
                self._words.append(w)
        self._synonyms = {
            w: self._index[t]
            for w, t in (synonyms or {}).items()
            if w not in self._index and t in self._index
        }

    @classmethod
    def build(
        cls, texts: Iterable[str], min_count: int = 1, max_size: int | None = None
    ) -> "Vocabulary":
        """Vocabulary of the words in ``texts`` seen at least ``min_count`` times.

        Words are ordered by decreasing count then alphabetically, so the result does not
        depend on the order of ``texts``; ``max_size`` caps the number of (non-special) words.
        """
        counts = Counter(w for text in texts for w in split_words(text))
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(ranked[:max_size] if max_size is not None else ranked)

    @property
    def words(self) -> list[str]:
        """Known words without the specials, in id order."""
        return self._words[2:]

    def __len__(self) -> int:
        """Number of ids, specials included."""
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index or word in self._synonyms

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Vocabulary)
            and self._words == other._words
            and self._synonyms == other._synonyms
        )

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.words)} words)"

    def id(self, word: str) -> int:
        """Id of ``word``, or of the word it is a synonym of (``unk_id`` when unknown)."""
        return self._index.get(word, self._synonyms.get(word, self.unk_id))

    def word(self, index: int) -> str:
        """Word of id ``index``."""
        return self._words[index]

    def encode(self, text: str, max_words: int | None = None) -> tuple[list[int], int, bool]:
        """Ids of ``text``'s words.

        Returns:
            ``(ids, unknown, truncated)``: the ids, how many words were unknown, and whether
            the text was cut to ``max_words``.

        Raises:
            InputError: the text is empty or has no word.
        """
        if not isinstance(text, str):
            raise InputError(f"a description must be a string, got {type(text).__name__}")
        words = split_words(text)
        if not words:
            shown = repr(text) if len(text) < 40 else repr(text[:40] + "...")
            raise InputError(
                f"the description {shown} has no words; describe the image in words, "
                f"e.g. 'this bird has a red head'"
            )
        truncated = max_words is not None and len(words) > max_words
        if truncated:
            words = words[:max_words]
        ids = [self.id(w) for w in words]
        return ids, sum(i == self.unk_id for i in ids), truncated

    def unknown_words(self, text: str) -> list[str]:
        """The words of ``text`` this vocabulary does not know."""
        return [w for w in split_words(text) if w not in self]

    def decode(self, ids: Sequence[int]) -> str:
        """Words of ``ids`` joined by spaces, padding dropped."""
        return " ".join(self._words[i] for i in ids if i != self.pad_id)
