"""TextEncoder: descriptions in, word features, a sentence feature and the padding mask out.

Shape legend: ``b`` batch, ``t`` tokens (padded length), ``d`` feature width.

Contract:

* :meth:`TextEncoder.tokenize` turns strings into a :class:`TokenBatch`. It raises
  :class:`~textedit.errors.InputError` for an empty description; it truncates a description
  longer than the encoder's limit (and records it in ``TokenBatch.truncated``); it maps words
  it does not know to an unknown token (counted in ``TokenBatch.unknown``).
* :meth:`TextEncoder.forward` maps a :class:`TokenBatch` to a :class:`TextEncoding` whose
  word features are exactly zero at padded positions, so padding contributes nothing.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.interfaces.component import Component

__all__ = ["TokenBatch", "TextEncoding", "TextEncoder", "EXAMPLE_DESCRIPTIONS"]

#: Descriptions used by :meth:`TextEncoder.example_inputs` and the conformance kit.
EXAMPLE_DESCRIPTIONS = (
    "this bird has a red head and white wings",
    "a small yellow flower with a dark centre",
    "the bird is blue",
)


@dataclass
class TokenBatch:
    """Tokenised descriptions.

    Attributes:
        ids: ``(b, t)`` int64 token ids, padded.
        mask: ``(b, t)`` bool, True on real tokens; every row has at least one.
        texts: the ``b`` original descriptions.
        unknown: ``(b,)`` int64, how many words of each description were unknown.
        truncated: ``(b,)`` bool, whether a description was cut to the length limit.
        extras: tokenizer-specific tensors of shape ``(b, t)`` (e.g. ``token_type_ids``).
    """

    ids: Tensor
    mask: Tensor
    texts: tuple[str, ...]
    unknown: Tensor
    truncated: Tensor
    extras: dict[str, Tensor] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> "TokenBatch":
        """A copy with every tensor on ``device``."""
        return replace(
            self,
            ids=self.ids.to(device),
            mask=self.mask.to(device),
            unknown=self.unknown.to(device),
            truncated=self.truncated.to(device),
            extras={k: v.to(device) for k, v in self.extras.items()},
        )

    def __len__(self) -> int:
        return self.ids.shape[0]

    def select(self, index: Tensor | Sequence[int]) -> "TokenBatch":
        """The rows ``index`` (e.g. a permutation to pair images with other descriptions)."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.ids.device)
        rows = index.tolist()
        return TokenBatch(
            ids=self.ids[index],
            mask=self.mask[index],
            texts=tuple(self.texts[i] for i in rows),
            unknown=self.unknown[index],
            truncated=self.truncated[index],
            extras={k: v[index] for k, v in self.extras.items()},
        )


@dataclass
class TextEncoding:
    """What a text encoder produces.

    Attributes:
        words: ``(b, t, d)`` word features, zero where ``word_mask`` is False.
        sentence: ``(b, d_s)`` sentence feature.
        word_mask: ``(b, t)`` bool, True on real words.
    """

    words: Tensor
    sentence: Tensor
    word_mask: Tensor

    def detach(self) -> "TextEncoding":
        """A copy cut from the autograd graph."""
        return TextEncoding(self.words.detach(), self.sentence.detach(), self.word_mask)

    def select(self, index: Tensor | Sequence[int]) -> "TextEncoding":
        """The rows ``index``."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.words.device)
        return TextEncoding(self.words[index], self.sentence[index], self.word_mask[index])


class TextEncoder(Component):
    """Abstract text encoder; see the module docstring for the contract."""

    kind: ClassVar[str] = "text_encoder"

    @property
    @abstractmethod
    def word_dim(self) -> int:
        """Width ``d`` of the word features."""

    @property
    @abstractmethod
    def sentence_dim(self) -> int:
        """Width ``d_s`` of the sentence feature."""

    @abstractmethod
    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Tokenise ``b`` descriptions (on the CPU)."""

    @abstractmethod
    def forward(self, tokens: TokenBatch) -> TextEncoding:
        """Encode a token batch that lives on this encoder's device."""

    def encode(self, texts: Sequence[str] | str) -> TextEncoding:
        """Tokenise and encode on this encoder's device."""
        if isinstance(texts, str):
            texts = [texts]
        return self(self.tokenize(list(texts)).to(self.device))

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        texts = [EXAMPLE_DESCRIPTIONS[(seed + i) % len(EXAMPLE_DESCRIPTIONS)] for i in range(batch_size)]
        return {"tokens": self.tokenize(texts).to(self.device)}
