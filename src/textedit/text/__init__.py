"""Text utilities: tokenisation and vocabularies."""

from textedit.text.vocabulary import PAD, UNK, Vocabulary, split_words

__all__ = ["Vocabulary", "split_words", "PAD", "UNK"]
