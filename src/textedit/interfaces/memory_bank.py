"""MemoryBank: learned texture memories read by word features (MIM-Net's MTFG).

Shape legend: ``b`` batch, ``t`` words, ``n`` memory slots, ``D`` word feature width,
``d`` memory (texture) width.

Contract:

* :meth:`MemoryBank.forward` reads the memories with word features: every valid word gets
  a texture feature that is a convex combination of the memories (attention weights
  non-negative, summing to 1 over the ``n`` slots); padded words get an all-zero texture
  and all-zero weights.
* :meth:`MemoryBank.sample_convex_weights` draws weights uniformly on the simplex
  (Dirichlet(1)) for the randomised memory loss, and :meth:`MemoryBank.read` turns any such
  weights into textures.
* :meth:`MemoryBank.memory_parameters` lists the parameters a trainer updates only in the
  reconstruction stage.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from textedit.interfaces._examples import example_words
from textedit.interfaces.component import Component

__all__ = ["MemoryRead", "MemoryBank", "masked_mean"]


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``(b, t, d)`` values over the ``t`` positions where ``mask`` ``(b, t)`` holds."""
    weights = mask.to(values.dtype)[..., None]
    return (values * weights).sum(1) / weights.sum(1).clamp_min(1.0)


@dataclass
class MemoryRead:
    """Word-level texture features read from a memory bank.

    Attributes:
        texture: ``(b, t, d)``, zero at padded words.
        word_mask: ``(b, t)`` bool.
        attention: ``(b, t, n)`` weights over memories (rows of padded words are zero), or
            None when not requested.
    """

    texture: Tensor
    word_mask: Tensor
    attention: Tensor | None = None

    def global_texture(self) -> Tensor:
        """``(b, d)`` mean texture over valid words (MIM-Net's ``g``)."""
        return masked_mean(self.texture, self.word_mask)


class MemoryBank(Component):
    """Abstract memory bank; see the module docstring for the contract."""

    kind: ClassVar[str] = "memory_bank"

    @property
    @abstractmethod
    def memories(self) -> Tensor:
        """``(n, d)`` memory vectors."""

    @property
    @abstractmethod
    def word_dim(self) -> int:
        """Width ``D`` of the word features it reads with."""

    @property
    def num_slots(self) -> int:
        """Number ``n`` of memory slots."""
        return self.memories.shape[0]

    @property
    def slot_dim(self) -> int:
        """Width ``d`` of a memory (and of the texture features)."""
        return self.memories.shape[1]

    @abstractmethod
    def forward(
        self, words: Tensor, word_mask: Tensor, return_attention: bool = False
    ) -> MemoryRead:
        """Read textures for ``(b, t, D)`` word features with a ``(b, t)`` mask."""

    def read(self, weights: Tensor, word_mask: Tensor) -> MemoryRead:
        """Textures for given ``(b, t, n)`` convex weights (padded rows are zeroed)."""
        weights = weights * word_mask[..., None].to(weights.dtype)
        return MemoryRead(weights @ self.memories, word_mask, weights)

    def sample_convex_weights(
        self, word_mask: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """``(b, t, n)`` weights uniform on the simplex (Dirichlet(1)), zero at padding.

        Dirichlet(1) is sampled as normalised Exp(1) variables so that a seeded
        ``generator`` makes it reproducible.
        """
        b, t = word_mask.shape
        u = torch.rand(b, t, self.num_slots, generator=generator, device=word_mask.device)
        e = -torch.log1p(-u.clamp(max=1 - 1e-7))  # Exp(1)
        weights = e / e.sum(-1, keepdim=True)
        return weights.to(self.memories.dtype) * word_mask[..., None]

    def memory_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters updated only in the reconstruction stage (default: all of them)."""
        return self.parameters()

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        words, mask = example_words(batch_size, 5, self.word_dim, seed)
        return {"words": words.to(self.device), "word_mask": mask.to(self.device)}
