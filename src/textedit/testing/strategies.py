"""Hypothesis strategies for textedit's inputs, for property tests of components and plug-ins.

Shape legend: ``b`` batch, ``t`` tokens/words, ``n`` memory slots, ``D`` word width, ``d``
memory (texture) width, ``c`` channels, ``h``/``w`` spatial size.

Every strategy draws its sizes first and then builds tensors that fit together, so no
example is ever filtered out. Float tensors come from a drawn seed through a
``torch.Generator`` (drawing every float through hypothesis would be slow and would not
shrink usefully); sizes, masks and token ids are drawn by hypothesis, so a failure shrinks
to small shapes and short rows.

A size argument takes an ``int`` (fixed) or a strategy of ints::

    from hypothesis import given, strategies as st
    from textedit.testing.strategies import memory_attention_inputs

    @given(memory_attention_inputs(slots=st.integers(1, 300)))
    def test_rows_sum_to_one(inputs):
        out = memory_attention(**inputs.kwargs(), return_attention=True)
        ...

Needs hypothesis (``pip install "textedit-mimnet[test]"``); the rest of textedit does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from textedit.errors import MissingDependencyError
from textedit.interfaces.text_encoder import TokenBatch

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the test extra
    raise MissingDependencyError(
        'textedit.testing.strategies needs hypothesis: pip install "textedit-mimnet[test]" '
        "(or pip install hypothesis)"
    ) from error

__all__ = [
    "seeds",
    "images",
    "masks",
    "token_batches",
    "memory_attention_inputs",
    "localizer_inputs",
    "MemoryAttentionInputs",
    "LocalizerInputs",
]

Size = int | st.SearchStrategy[int]


def _sizes(value: Size, name: str, minimum: int = 1) -> st.SearchStrategy[int]:
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"{name} must be an int >= {minimum} or a hypothesis strategy of ints, got {value!r}"
        )
    return st.just(value)


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``torch.Generator().manual_seed``."""
    return st.integers(min_value=0, max_value=2**31 - 1)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@st.composite
def images(
    draw,
    batch_size: Size = st.integers(1, 3),
    size: Size = st.sampled_from([8, 16, 32]),
    channels: Size = 3,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Float images ``(b, c, size, size)`` with values in ``[-1, 1]``.

    Args:
        batch_size: ``b``.
        size: height and width.
        channels: ``c``.
        dtype: a floating dtype.
    """
    b = draw(_sizes(batch_size, "batch_size"))
    s = draw(_sizes(size, "size"))
    c = draw(_sizes(channels, "channels"))
    g = _generator(draw(seeds()))
    return (torch.rand(b, c, s, s, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)


@st.composite
def masks(
    draw,
    batch_size: Size = st.integers(1, 4),
    length: Size = st.integers(1, 8),
    prefix: bool | None = None,
) -> Tensor:
    """Bool masks ``(b, t)`` with at least one True in every row.

    Args:
        batch_size: ``b``.
        length: ``t``.
        prefix: True for padding-at-the-end masks (``True…True False…False``, as tokenisers
            produce), False for arbitrary patterns, None to draw either.
    """
    b = draw(_sizes(batch_size, "batch_size"))
    t = draw(_sizes(length, "length"))
    if prefix is None:
        prefix = draw(st.booleans())
    if prefix:
        lengths = draw(st.lists(st.integers(1, t), min_size=b, max_size=b))
        return torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    # A row is a non-zero t-bit pattern; it shrinks towards 1 (only the first word real).
    patterns = draw(st.lists(st.integers(1, 2**t - 1), min_size=b, max_size=b))
    return torch.tensor([[bool(p >> i & 1) for i in range(t)] for p in patterns], dtype=torch.bool)


@st.composite
def token_batches(
    draw,
    vocab_size: Size = st.integers(3, 50),
    max_length: int = 8,
    batch_size: Size = st.integers(1, 4),
) -> TokenBatch:
    """:class:`~textedit.interfaces.TokenBatch` objects, padded to their longest row.

    Real tokens get ids in ``[2, vocab_size)`` (0 is ``<pad>``, 1 ``<unk>``, never drawn), so
    ``unknown`` is all zero; padding gets id 0; ``truncated`` is all False. ``texts`` spell
    the ids as ``"w<id>"`` words.

    Args:
        vocab_size: number of ids, specials included (at least 3).
        max_length: longest row.
        batch_size: ``b``.
    """
    vocab = draw(_sizes(vocab_size, "vocab_size", minimum=3))
    b = draw(_sizes(batch_size, "batch_size"))
    _sizes(max_length, "max_length")
    lengths = draw(st.lists(st.integers(1, max_length), min_size=b, max_size=b))
    t = max(lengths)
    rows = [draw(st.lists(st.integers(2, vocab - 1), min_size=k, max_size=k)) for k in lengths]
    ids = torch.tensor([row + [0] * (t - len(row)) for row in rows], dtype=torch.long)
    return TokenBatch(
        ids=ids,
        mask=ids != 0,
        texts=tuple(" ".join(f"w{i}" for i in row) for row in rows),
        unknown=torch.zeros(b, dtype=torch.long),
        truncated=torch.zeros(b, dtype=torch.bool),
    )


@dataclass(frozen=True)
class MemoryAttentionInputs:
    """Arguments of :func:`textedit.ops.memory_attention`.

    Attributes:
        words: ``(b, t, D)``; padded positions hold random features too, which must not
            matter.
        word_mask: ``(b, t)`` bool, at least one True per row.
        memories: ``(n, d)``.
        key_weight: ``(D, d)``.
        seed: the seed the tensors were built from.
    """

    words: Tensor
    word_mask: Tensor
    memories: Tensor
    key_weight: Tensor
    seed: int

    def kwargs(self, requires_grad: bool = False) -> dict[str, Tensor]:
        """Fresh copies of the tensors by argument name (leaves if ``requires_grad``)."""
        grad = {"words", "memories", "key_weight"} if requires_grad else set()
        return {
            name: getattr(self, name).clone().requires_grad_(name in grad)
            for name in ("words", "word_mask", "memories", "key_weight")
        }

    def __repr__(self) -> str:  # hypothesis prints this on failure: shapes beat tensor dumps
        b, t, big_d = self.words.shape
        n, d = self.memories.shape
        return (
            f"MemoryAttentionInputs(b={b}, t={t}, n={n}, d={d}, D={big_d}, seed={self.seed}, "
            f"word_mask={self.word_mask.int().tolist()}, dtype={self.words.dtype})"
        )


@st.composite
def memory_attention_inputs(
    draw,
    batch_size: Size = st.integers(1, 3),
    length: Size = st.integers(1, 6),
    slots: Size = st.integers(1, 48),
    slot_dim: Size = st.integers(1, 8),
    word_dim: Size = st.integers(1, 8),
    dtype: torch.dtype = torch.float64,
    prefix_mask: bool | None = None,
    score_scale: float = 1.0,
) -> MemoryAttentionInputs:
    """Consistent inputs for memory attention: ``b, t, n, d, D`` drawn, then the tensors.

    Words and memories are standard normal and ``key_weight`` is scaled by
    ``score_scale / sqrt(D d)`` so that scores are of order ``score_scale`` whatever the
    widths: the weights are neither uniform nor one-hot.

    Args:
        batch_size: ``b``.
        length: ``t``.
        slots: ``n``.
        slot_dim: ``d``.
        word_dim: ``D``.
        dtype: floating dtype of the tensors.
        prefix_mask: passed to :func:`masks` as ``prefix``.
        score_scale: typical magnitude of a score.
    """
    b = draw(_sizes(batch_size, "batch_size"))
    t = draw(_sizes(length, "length"))
    n = draw(_sizes(slots, "slots"))
    d = draw(_sizes(slot_dim, "slot_dim"))
    big_d = draw(_sizes(word_dim, "word_dim"))
    word_mask = draw(masks(b, t, prefix=prefix_mask))
    seed = draw(seeds())
    g = _generator(seed)

    def normal(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    scale = score_scale / (big_d * d) ** 0.5
    return MemoryAttentionInputs(
        words=normal(b, t, big_d).to(dtype),
        word_mask=word_mask,
        memories=normal(n, d).to(dtype),
        key_weight=(normal(big_d, d) * scale).to(dtype),
        seed=seed,
    )


@dataclass(frozen=True)
class LocalizerInputs:
    """Arguments of :meth:`textedit.interfaces.Localizer.forward`.

    Attributes:
        coarse: ``(b, c, h, w)`` coarse manipulated features.
        original: ``(b, c, h, w)`` original image features.
        texture: ``(b, d)`` global texture.
    """

    coarse: Tensor
    original: Tensor
    texture: Tensor

    def kwargs(self) -> dict[str, Any]:
        """The tensors by argument name."""
        return {"coarse": self.coarse, "original": self.original, "texture": self.texture}


@st.composite
def localizer_inputs(
    draw,
    batch_size: Size = st.integers(1, 3),
    channels: Size = st.integers(1, 8),
    height: Size = st.integers(1, 8),
    width: Size = st.integers(1, 8),
    texture_dim: Size = st.integers(1, 8),
    dtype: torch.dtype = torch.float32,
) -> LocalizerInputs:
    """Consistent localizer inputs: standard normal features and texture.

    Pass the localizer's own ``channels`` and ``texture_dim`` (ints) to feed a built one.

    Args:
        batch_size: ``b``.
        channels: ``c``.
        height: ``h``.
        width: ``w``.
        texture_dim: ``d``.
        dtype: floating dtype of the tensors.
    """
    b = draw(_sizes(batch_size, "batch_size"))
    c = draw(_sizes(channels, "channels"))
    h = draw(_sizes(height, "height"))
    w = draw(_sizes(width, "width"))
    d = draw(_sizes(texture_dim, "texture_dim"))
    g = _generator(draw(seeds()))
    return LocalizerInputs(
        coarse=torch.randn(b, c, h, w, generator=g, dtype=torch.float64).to(dtype),
        original=torch.randn(b, c, h, w, generator=g, dtype=torch.float64).to(dtype),
        texture=torch.randn(b, d, generator=g, dtype=torch.float64).to(dtype),
    )
