"""A word-embedding Bi-LSTM text encoder over a fixed vocabulary (MIM-Net, spec section 1)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import Field
from torch import nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.text_encoder import (
    EXAMPLE_DESCRIPTIONS,
    TextEncoder,
    TextEncoding,
    TokenBatch,
)
from textedit.layers.packed_lstm import PackedBiLSTM
from textedit.registry.api import register_text_encoder
from textedit.text.vocabulary import Vocabulary, split_words

__all__ = ["BiLSTMTextEncoder", "BiLSTMTextEncoderConfig"]


class BiLSTMTextEncoderConfig(ComponentConfig):
    vocabulary: tuple[str, ...] = Field(
        ("a", "bird", "red", "blue", "white", "wings", "head"),
        description="known words in id order; <pad> (id 0) and <unk> (id 1) are implied. "
        "Saved with the model, so a reloaded encoder tokenises the same way.",
    )
    synonyms: dict[str, str] = Field(
        default_factory=dict,
        description="word -> known word: an unknown word listed here is read as the word it "
        "names (crimson -> red), so descriptions a person writes reach words the training "
        "captions taught; saved with the model",
    )
    max_words: int = Field(18, gt=0, description="longer descriptions are truncated (and flagged)")
    embedding_dim: int = Field(300, gt=0, description="word embedding width")
    hidden_dim: int = Field(
        128, gt=0, description="LSTM hidden size per direction; word width is twice it"
    )
    num_layers: int = Field(1, gt=0, description="stacked LSTM layers")
    dropout: float = Field(
        0.1, ge=0.0, lt=1.0, description="dropout on the embeddings (and between layers)"
    )


@register_text_encoder("bilstm")
class BiLSTMTextEncoder(TextEncoder):
    """Embeds words and runs a bidirectional LSTM over them.

    Word features ``(b, t, 2·hidden_dim)`` are the LSTM outputs (exactly zero at padding,
    which the packed LSTM never reads); the sentence feature ``(b, 2·hidden_dim)`` is the
    last hidden state of each direction.
    """

    config_class = BiLSTMTextEncoderConfig

    def __init__(self, config: BiLSTMTextEncoderConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.vocabulary = Vocabulary(c.vocabulary, c.synonyms)
        self.embedding = nn.Embedding(
            len(self.vocabulary), c.embedding_dim, padding_idx=Vocabulary.pad_id
        )
        self.dropout = nn.Dropout(c.dropout)
        self.lstm = PackedBiLSTM(c.embedding_dim, c.hidden_dim, c.num_layers, c.dropout)

    @classmethod
    def example_config(cls) -> BiLSTMTextEncoderConfig:
        words = sorted({w for text in EXAMPLE_DESCRIPTIONS for w in split_words(text)})
        return cls.config_class(
            vocabulary=tuple(words), embedding_dim=16, hidden_dim=8, max_words=8
        )

    @property
    def word_dim(self) -> int:
        return 2 * self.config.hidden_dim

    @property
    def sentence_dim(self) -> int:
        return 2 * self.config.hidden_dim

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Ids padded to the longest description; see :mod:`textedit.text.vocabulary`."""
        if isinstance(texts, str):
            texts = [texts]
        encoded = [self.vocabulary.encode(text, self.config.max_words) for text in texts]
        if not encoded:
            raise InputError("tokenize needs at least one description, got an empty list")
        length = max(len(ids) for ids, _, _ in encoded)
        ids = torch.full((len(encoded), length), Vocabulary.pad_id, dtype=torch.long)
        for row, (word_ids, _, _) in enumerate(encoded):
            ids[row, : len(word_ids)] = torch.tensor(word_ids, dtype=torch.long)
        return TokenBatch(
            ids=ids,
            mask=ids != Vocabulary.pad_id,
            texts=tuple(texts),
            unknown=torch.tensor([u for _, u, _ in encoded], dtype=torch.long),
            truncated=torch.tensor([t for _, _, t in encoded], dtype=torch.bool),
        )

    def forward(self, tokens: TokenBatch) -> TextEncoding:
        embedded = self.dropout(self.embedding(tokens.ids))
        words, sentence = self.lstm(embedded, tokens.mask)
        return TextEncoding(words, sentence, tokens.mask)
