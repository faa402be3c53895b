"""Properties of memory attention (spec section 2) that hold for every backend.

Parametrised over ``available_backends()``: ``"triton"`` joins when CUDA is available (its
cases then run on CUDA tensors and carry the ``gpu`` marker; they used to feed it CPU
tensors and fail on any CUDA machine) or when this file runs under ``TRITON_INTERPRET=1``
on the CPU (tests/unit/test_memory_attention_backends.py does that in a subprocess). The fused backend gets small drawn block sizes so that the
online softmax really crosses block boundaries on these small memory banks.
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from textedit.ops.memory_attention import available_backends, memory_attention
from textedit.testing.strategies import MemoryAttentionInputs, memory_attention_inputs

#: where each backend's inputs live: triton runs on CUDA tensors, except under
#: TRITON_INTERPRET=1, where it runs on the CPU (the subprocess test); the rest on the CPU
DEVICES = {"triton": "cpu" if os.environ.get("TRITON_INTERPRET") == "1" else "cuda"}


def _param(name: str):
    marks = [pytest.mark.gpu] if DEVICES.get(name, "cpu") == "cuda" else []
    return pytest.param(name, marks=marks, id=name)


BACKENDS = [_param(name) for name in available_backends()]
OTHER_BACKENDS = [_param(name) for name in available_backends() if name != "reference"]


def attend(*args, backend: str, **kwargs):
    """``memory_attention`` on the backend's device, with the outputs back on the CPU (the
    moves are differentiable, so gradients reach the CPU leaves)."""
    device = DEVICES.get(backend, "cpu")

    def move(v):
        return v.to(device) if isinstance(v, torch.Tensor) else v

    out = memory_attention(*map(move, args), backend=backend, **{k: move(v) for k, v in kwargs.items()})
    return type(out)(*(v.cpu() if isinstance(v, torch.Tensor) else v for v in out))

# Score magnitudes from near-uniform weights to near one-hot ones (the online softmax's
# running max matters there).
inputs = st.sampled_from([0.1, 1.0, 8.0, 60.0]).flatmap(
    lambda scale: memory_attention_inputs(score_scale=scale)
)
block_sizes = st.integers(1, 8)


def run(x: MemoryAttentionInputs, backend: str, block_size: int, **kwargs):
    return attend(**x.kwargs(**kwargs), backend=backend, return_attention=True, block_size=block_size)


def tolerance(dtype: torch.dtype) -> dict:
    return {"rtol": 1e-9, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-5}


@pytest.mark.parametrize("backend", BACKENDS)
@given(x=inputs, block_size=block_sizes)
def test_shapes_and_weights_form_a_distribution_per_valid_word(backend, x, block_size):
    b, t, _ = x.words.shape
    n, d = x.memories.shape
    out = run(x, backend, block_size)
    assert out.texture.shape == (b, t, d)
    assert out.attention.shape == (b, t, n)
    assert out.texture.dtype == x.words.dtype
    assert (out.attention >= 0).all()
    sums = out.attention.sum(-1)
    valid = x.word_mask
    torch.testing.assert_close(sums[valid], torch.ones_like(sums[valid]))
    assert (out.attention[~valid] == 0).all()
    assert (out.texture[~valid] == 0).all()
    # The texture is the weighted mean the weights describe (the weights are materialised
    # apart from the fused/triton kernels, so this ties the kernels to them).
    expected = out.attention @ x.memories
    torch.testing.assert_close(out.texture, expected, **tolerance(x.words.dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@given(x=inputs, block_size=block_sizes)
def test_textures_lie_in_the_convex_hull_of_the_memories(backend, x, block_size):
    texture = run(x, backend, block_size).texture[x.word_mask]  # (r, d)
    low = x.memories.min(0).values
    high = x.memories.max(0).values
    slack = 1e-9 * (1 + x.memories.abs().max())
    assert (texture >= low - slack).all()
    assert (texture <= high + slack).all()


@pytest.mark.parametrize("backend", BACKENDS)
@given(x=inputs, block_size=block_sizes, data=st.data())
def test_permuting_memory_slots_changes_nothing(backend, x, block_size, data):
    n = x.memories.shape[0]
    order = torch.tensor(data.draw(st.permutations(range(n)), label="slot order"))
    base = run(x, backend, block_size)
    kwargs = x.kwargs()
    kwargs["memories"] = kwargs["memories"][order]
    permuted = attend(
        **kwargs, backend=backend, return_attention=True, block_size=block_size
    )
    torch.testing.assert_close(permuted.texture, base.texture, **tolerance(x.words.dtype))
    torch.testing.assert_close(
        permuted.attention, base.attention[..., order], **tolerance(x.words.dtype)
    )


@pytest.mark.parametrize("backend", BACKENDS)
@given(
    x=inputs,
    block_size=block_sizes,
    extra=st.integers(0, 3),
    garbage_scale=st.sampled_from([0.0, 1.0, 1e6]),
    data=st.data(),
)
def test_padded_words_change_nothing(backend, x, block_size, extra, garbage_scale, data):
    """New padded words anywhere, with any features, leave the real words' outputs alone."""
    b, t, big_d = x.words.shape
    base = run(x, backend, block_size)
    g = torch.Generator().manual_seed(x.seed + 1)
    words = x.words.clone()
    noise = torch.randn(words.shape, generator=g, dtype=words.dtype) * garbage_scale
    words[~x.word_mask] = noise[~x.word_mask]
    padding = torch.randn(b, extra, big_d, generator=g, dtype=words.dtype) * garbage_scale
    words = torch.cat([words, padding], dim=1)
    mask = torch.cat([x.word_mask, torch.zeros(b, extra, dtype=torch.bool)], dim=1)
    order = torch.tensor(data.draw(st.permutations(range(t + extra)), label="word order"))
    out = attend(
        words[:, order],
        mask[:, order],
        x.memories,
        x.key_weight,
        backend=backend,
        return_attention=True,
        block_size=block_size,
    )
    restore = torch.argsort(order)
    texture, attention = out.texture[:, restore], out.attention[:, restore]
    torch.testing.assert_close(texture[:, :t], base.texture, **tolerance(x.words.dtype))
    torch.testing.assert_close(attention[:, :t], base.attention, **tolerance(x.words.dtype))
    assert (texture[:, t:] == 0).all() and (attention[:, t:] == 0).all()


def _values_and_gradients(x: MemoryAttentionInputs, backend: str, block_size: int):
    leaves = x.kwargs(requires_grad=True)
    out = attend(**leaves, backend=backend, return_attention=True, block_size=block_size)
    g = torch.Generator().manual_seed(x.seed + 2)
    dtype = x.words.dtype
    upstream_texture = torch.randn(out.texture.shape, generator=g, dtype=torch.float64)
    upstream_attention = torch.randn(out.attention.shape, generator=g, dtype=torch.float64)
    loss = (out.texture * upstream_texture.to(dtype)).sum()
    (loss + (out.attention * upstream_attention.to(dtype)).sum()).backward()
    grads = [leaves[name].grad for name in ("words", "memories", "key_weight")]
    return [out.texture, out.attention, *grads]


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@given(
    x=st.sampled_from([torch.float64, torch.float32]).flatmap(
        lambda dtype: memory_attention_inputs(dtype=dtype, score_scale=4.0)
    ),
    block_size=block_sizes,
)
def test_backends_agree_with_reference_in_values_and_gradients(backend, x, block_size):
    expected = _values_and_gradients(x, "reference", block_size)
    actual = _values_and_gradients(x, backend, block_size)
    names = ["texture", "attention", "grad words", "grad memories", "grad key_weight"]
    for name, a, e in zip(names, actual, expected):
        torch.testing.assert_close(a, e, **tolerance(x.words.dtype), msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@given(x=memory_attention_inputs(dtype=torch.float64, score_scale=4.0), block_size=block_sizes)
def test_texture_gradients_agree_without_attention(backend, x, block_size):
    """Only the texture in the loss: the gradients go through the backend's own backward."""
    grads = {}
    for name in ("reference", backend):
        leaves = x.kwargs(requires_grad=True)
        texture = attend(**leaves, backend=name, block_size=block_size).texture
        g = torch.Generator().manual_seed(x.seed + 3)
        (texture * torch.randn(texture.shape, generator=g, dtype=texture.dtype)).sum().backward()
        grads[name] = [leaves[k].grad for k in ("words", "memories", "key_weight")]
    for a, e in zip(grads[backend], grads["reference"]):
        torch.testing.assert_close(a, e, **tolerance(x.words.dtype))
