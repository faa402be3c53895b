"""Learned memories read by word features through a projected key (MIM-Net's MTFG)."""

from __future__ import annotations


import math
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.memory_bank import MemoryBank, MemoryRead
from textedit.ops.memory_attention import memory_attention
from textedit.registry.api import register_memory_bank

__all__ = ["KeyValueMemoryBank", "KeyValueMemoryBankConfig"]


class KeyValueMemoryBankConfig(ComponentConfig):
    num_slots: int = Field(128, gt=0, description="number n of memory vectors")
    slot_dim: int = Field(
        128, gt=0, description="width d of a memory (and of the texture features)"
    )
    word_dim: int = Field(
        256, gt=0, description="width D of the word features that read the memories"
    )
    backend: str = Field(
        "auto",
        description="memory-attention backend passed to textedit.ops.memory_attention "
        "('auto' picks the fastest one available)",
    )
    init_std: float = Field(1.0, gt=0.0, description="standard deviation of the initial memories")
    score_scale: Literal["none", "sqrt"] = Field(
        "none",
        description="scale of the scores e_j · k_i: 'none' as the paper writes them, or "
        "'sqrt' (divided by √D, as in scaled dot-product attention), which keeps the read "
        "from saturating onto one slot as the word features grow (a choice beyond the paper)",
    )


@register_memory_bank("key_value")
class KeyValueMemoryBank(MemoryBank):
    """``a_{j,i} = softmax_i(e_j · W_k m_i)``, ``t_j = Σ_i a_{j,i} m_i``.

    Parameters: ``slots`` ``(n, d)`` (the memories ``M``) and ``key.weight`` ``(D, d)``
    (``W_k``). Both belong to the memory: a trainer updates them only in the
    reconstruction stage (:meth:`memory_parameters`).
    """

    config_class = KeyValueMemoryBankConfig

    def __init__(self, config: KeyValueMemoryBankConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.slots = nn.Parameter(torch.randn(c.num_slots, c.slot_dim) * c.init_std)
        self.key = nn.Linear(c.slot_dim, c.word_dim, bias=False)

    @classmethod
    def example_config(cls) -> KeyValueMemoryBankConfig:
        return cls.config_class(num_slots=6, slot_dim=4, word_dim=8)

    @property
    def memories(self) -> Tensor:
        return self.slots

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    def forward(
        self, words: Tensor, word_mask: Tensor, return_attention: bool = False
    ) -> MemoryRead:
        """Read textures for ``(b, t, D)`` word features with a ``(b, t)`` mask.

        Returns:
            :class:`MemoryRead` with ``(b, t, d)`` textures (zero at padding) and, when
            asked, the ``(b, t, n)`` attention.
        """
        if words.shape[-1] != self.config.word_dim:
            raise InputError(
                f"{type(self).__name__} reads {self.config.word_dim}-wide word features, got "
                f"{tuple(words.shape)}; set memory_bank.word_dim to the text encoder's word_dim "
                f"(a composition wires it for you)"
            )
        key = self.key.weight
        if self.config.score_scale == "sqrt":
            key = key / math.sqrt(self.config.word_dim)
        # under an autocast the word features may arrive in bf16: give the read one dtype
        out = memory_attention(
            words.to(self.slots.dtype),
            word_mask,
            self.slots,
            key.to(self.slots.dtype),
            backend=self.config.backend,
            return_attention=return_attention,
        )
        return MemoryRead(out.texture, word_mask, out.attention)
