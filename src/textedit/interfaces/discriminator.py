"""Discriminator: is an image real, and does it match a description? One score per stage.

Shape legend: ``b`` batch, ``s_k`` the size of stage ``k``, ``t`` words.

Contract: :meth:`Discriminator.forward` takes one image batch per stage (``(b, 3, s_k, s_k)``
in ``[-1, 1]``) and, for a conditional discriminator, the text, and returns a
:class:`DiscriminatorOutput` in log space. Per stage it gives either

* a reality *logit* of the unconditional ``D_r`` (``log D_r = logsigmoid(logit)``), and,
  when given text, a conformity *log-probability* ``log D_c ≤ 0`` (``log(1 − D_c)`` is
  :func:`log1mexp` of it) — TAGAN's text-adaptive discriminator; or
* for a purely matching-aware discriminator (GAN-INT-CLS, SISGAN), ``reality=()`` and,
  when given text, a *matching* logit: the single score that the image is real **and**
  matches the text (such a discriminator needs the text).

Computing in log space keeps the losses finite when a score saturates.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.errors import InputError
from textedit.interfaces._examples import example_images, example_words, generator_for
from textedit.interfaces.component import Component
from textedit.interfaces.text_encoder import TextEncoding

__all__ = ["DiscriminatorOutput", "Discriminator", "log1mexp"]


def log1mexp(log_p: Tensor) -> Tensor:
    """``log(1 − exp(log_p))`` for ``log_p ≤ 0``, accurate near both ends (Mächler, 2012)."""
    log_p = log_p.clamp(max=-1e-7)
    return torch.where(
        log_p > -math.log(2), torch.log(-torch.expm1(log_p)), torch.log1p(-torch.exp(log_p))
    )


@dataclass
class DiscriminatorOutput:
    """Attributes:
    reality: per stage, ``(b,)`` logits of the unconditional real/fake score ``D_r``;
        ``()`` for a purely matching-aware discriminator.
    conformity: per stage, ``(b,)`` log-probabilities ``log D_c`` that the image matches
        the text, or None for an unconditional discriminator or when no text was given.
    matching: per stage, ``(b,)`` logits that the image is real *and* matches the text:
        the single score of a matching-aware discriminator (GAN-INT-CLS, SISGAN), or None.
    """

    reality: tuple[Tensor, ...]
    conformity: tuple[Tensor, ...] | None = None
    matching: tuple[Tensor, ...] | None = None


class Discriminator(Component):
    """Abstract discriminator; see the module docstring for the contract."""

    kind: ClassVar[str] = "discriminator"

    @property
    @abstractmethod
    def stage_sizes(self) -> tuple[int, ...]:
        """Image size of each stage it judges."""

    @property
    def word_dim(self) -> int | None:
        """Width of the word features it reads, or None when unconditional."""
        return None

    @property
    def sentence_dim(self) -> int | None:
        """Width of the sentence feature it reads (defaults to :attr:`word_dim`)."""
        return self.word_dim

    @abstractmethod
    def forward(
        self, images: Sequence[Tensor], text: TextEncoding | None = None
    ) -> DiscriminatorOutput:
        """Scores of one image batch per stage, in log space."""

    def check_stage_images(self, images: Sequence[Tensor]) -> None:
        """Raise :class:`~textedit.errors.InputError` unless ``images`` holds one
        ``(b, 3, s, s)`` batch per stage of :attr:`stage_sizes`, coarse to fine."""
        sizes = list(self.stage_sizes)
        shapes = [tuple(i.shape) for i in images]
        if len(images) != len(sizes) or any(
            len(shape) != 4 or shape[1:] != (3, s, s) for shape, s in zip(shapes, sizes)
        ):
            raise InputError(
                f"{type(self).__name__} judges one (b, 3, s, s) batch per stage of sizes {sizes}, "
                f"got shapes {shapes}; pass GeneratorOutput.images (or the real images resized to "
                f"each stage)"
            )

    def check_sentence(self, sentence: Tensor, batch_size: int) -> None:
        """Raise :class:`~textedit.errors.InputError` unless ``sentence`` is
        ``(batch_size, sentence_dim)``."""
        if sentence.ndim != 2 or sentence.shape != (batch_size, self.sentence_dim):
            raise InputError(
                f"{type(self).__name__} reads a (b, {self.sentence_dim}) sentence feature for "
                f"{batch_size} images, got {tuple(sentence.shape)}; set discriminator.sentence_dim "
                f"to the text encoder's sentence_dim"
            )

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        device = self.device
        images = [example_images(batch_size, s, seed + k).to(device) for k, s in enumerate(self.stage_sizes)]
        inputs: dict[str, Any] = {"images": images}
        if self.word_dim is not None:
            words, mask = example_words(batch_size, 5, self.word_dim, seed)
            sentence = torch.randn(batch_size, self.sentence_dim, generator=generator_for(seed + 2))
            inputs["text"] = TextEncoding(words.to(device), sentence.to(device), mask.to(device))
        return inputs
