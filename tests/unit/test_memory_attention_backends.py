"""Memory attention backends: selection, errors that teach, memory use, Triton (interpreted)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from textedit.errors import InputError, TextEditError
from textedit.ops.memory_attention import (
    BACKEND_ENV_VAR,
    available_backends,
    memory_attention,
    resolve_backend,
)

HAS_TRITON = importlib.util.find_spec("triton") is not None


def make(b=2, t=3, n=5, d=4, big_d=6, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    words = torch.randn(b, t, big_d, generator=g, dtype=dtype)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1:, t - 1 :] = False
    memories = torch.randn(n, d, generator=g, dtype=dtype)
    key_weight = torch.randn(big_d, d, generator=g, dtype=dtype) / (big_d * d) ** 0.5
    return words, mask, memories, key_weight


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda w, m, M, K: (w[0], m, M, K), r"words \(3, 6\)"),
        (lambda w, m, M, K: (w, m, M[None], K), r"memories \(1, 5, 4\)"),
        (lambda w, m, M, K: (w, m, M, K[:5]), r"D = words.shape\[2\] = 6.*key_weight \(5, 4\)"),
        (lambda w, m, M, K: (w, m, M[:, :3], K), r"d = memories.shape\[1\] = 3.*\(6, 4\)"),
        (lambda w, m, M, K: (w, m[:, :2], M, K), r"word_mask must be \(b, t\) = \(2, 3\)"),
        (lambda w, m, M, K: (w, m.long(), M, K), r"word_mask must be bool.*torch.int64"),
        (lambda w, m, M, K: (w, m, M[:0], K), r"at least one memory slot.*memories \(0, 4\)"),
        (lambda w, m, M, K: (w, m, M.float(), K), r"one floating dtype.*memories torch.float32"),
        (lambda w, m, M, K: (w.long(), m, M, K), r"one floating dtype.*words torch.int64"),
    ],
    ids=["words-2d", "memories-3d", "word-width", "memory-width", "mask-shape", "mask-dtype",
         "no-slots", "mixed-dtypes", "int-words"],
)  # fmt: skip
def test_bad_inputs_raise_an_input_error_naming_the_shapes(change, expected):
    with pytest.raises(InputError, match=expected) as info:
        memory_attention(*change(*make()), backend="reference")
    assert isinstance(info.value, ValueError) and isinstance(info.value, TextEditError)


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(InputError, match="unknown memory attention backend 'flash'") as info:
        memory_attention(*make(), backend="flash")
    for name in available_backends():
        assert name in str(info.value)
    assert "'auto'" in str(info.value)


def test_unknown_backend_from_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV_VAR, "nope")
    with pytest.raises(InputError, match=f"environment variable {BACKEND_ENV_VAR}"):
        memory_attention(*make())


def test_block_size_must_be_positive():
    with pytest.raises(InputError, match="block_size must be a positive int, got 0"):
        memory_attention(*make(), backend="fused", block_size=0)


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_on_cpu_tensors_without_the_interpreter_explains_the_options(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(InputError, match="runs on CUDA tensors.*backend='fused'.*TRITON_INTERPRET"):
        memory_attention(*make(), backend="triton")


# ----------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    "b, t, n, train, expected",
    [
        (8, 18, 64, False, "reference"),  # too few slots for the blocked loop to pay
        (8, 18, 4096, False, "fused"),
        (8, 18, 4096, True, "fused"),
        (32, 32, 256, False, "reference"),  # more words than slots
        (32, 32, 4096, False, "fused"),
        (32, 32, 4096, True, "reference"),  # the recomputing backward costs more here
        (32, 32, 16384, True, "fused"),  # (b, t, n) = 2**24 weights: memory-bound
    ],
)
def test_auto_follows_the_measured_crossovers(monkeypatch, b, t, n, train, expected):
    monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)
    words = torch.zeros(b, t, 256, requires_grad=train)
    memories = torch.zeros(n, 256)
    assert resolve_backend("auto", words, memories) == expected
    with torch.no_grad():  # no backward pass will follow: the forward count decides
        at_inference = resolve_backend("auto", words, memories)
    assert at_inference == resolve_backend("auto", words.detach(), memories)


class _CudaLike:
    """Stands in for a CUDA tensor on machines without one: what resolve_backend reads."""

    is_cuda = True
    device = "cuda:0"

    def __init__(self, *shape: int, requires_grad: bool = False):
        self.shape, self.requires_grad = shape, requires_grad


def test_auto_on_cuda_picks_triton_from_the_device_crossover(monkeypatch):
    # (the package's `memory_attention` attribute is the function, so import the module)
    ops = importlib.import_module("textedit.ops.memory_attention")
    monkeypatch.delenv(BACKEND_ENV_VAR, raising=False)
    monkeypatch.setattr(ops, "_triton_installed", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H200")
    small = (_CudaLike(8, 18, 256), _CudaLike(4096, 256))  # 589 824 weights
    large = (_CudaLike(256, 32, 256), _CudaLike(16384, 256))  # 2**27 weights
    # A device not measured: triton where the reference's weights would take 64 MiB.
    assert ops.triton_crossover("cuda:0") == (1 << 24, 1 << 24)
    assert resolve_backend("auto", *small) == "reference"
    assert resolve_backend("auto", *large) == "triton"
    # A measured device: its own forward and training crossovers.
    monkeypatch.setitem(ops._TRITON_CROSSOVERS, "NVIDIA H", (1 << 19, 1 << 30))
    assert resolve_backend("auto", *small) == "triton"
    training = (_CudaLike(8, 18, 256, requires_grad=True), small[1])
    assert resolve_backend("auto", *training) == "reference"
    with torch.no_grad():
        assert resolve_backend("auto", *training) == "triton"
    monkeypatch.setattr(ops, "_triton_installed", lambda: False)
    assert resolve_backend("auto", *large) == "reference"


def test_environment_variable_forces_what_auto_resolves_to(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV_VAR, "reference")
    words = torch.zeros(8, 18, 4)
    assert resolve_backend("auto", words, torch.zeros(4096, 4)) == "reference"
    assert resolve_backend("fused", words, torch.zeros(8, 4)) == "fused"


def test_all_backends_return_the_same_attention_when_asked():
    words, mask, memories, key_weight = make(n=40)
    expected = memory_attention(words, mask, memories, key_weight, backend="reference",
                                return_attention=True)  # fmt: skip
    for backend in available_backends():
        out = memory_attention(words, mask, memories, key_weight, backend=backend,
                               return_attention=True, block_size=7)  # fmt: skip
        torch.testing.assert_close(out.attention, expected.attention)
        torch.testing.assert_close(out.texture, expected.texture)
        assert memory_attention(words, mask, memories, key_weight, backend=backend).attention is None


def test_non_finite_features_at_padded_words_change_nothing():
    words, mask, memories, key_weight = make()
    poisoned = words.clone()
    poisoned[~mask] = float("inf")
    poisoned[1, -1, 0] = float("nan")
    for backend in available_backends():
        clean = memory_attention(words, mask, memories, key_weight, backend=backend).texture
        leaf = poisoned.clone().requires_grad_()
        out = memory_attention(leaf, mask, memories, key_weight, backend=backend).texture
        out.sum().backward()
        torch.testing.assert_close(out, clean)
        assert torch.isfinite(leaf.grad).all() and (leaf.grad[~mask] == 0).all()


def test_no_mask_means_every_word_is_real():
    words, _, memories, key_weight = make()
    full = torch.ones(words.shape[:2], dtype=torch.bool)
    for backend in available_backends():
        a = memory_attention(words, None, memories, key_weight, backend=backend).texture
        b = memory_attention(words, full, memories, key_weight, backend=backend).texture
        torch.testing.assert_close(a, b)


# ------------------------------------------------------------------------ the fused path


@pytest.mark.parametrize("block_size", [1, 3, 64])
def test_fused_backward_passes_gradcheck(block_size):
    words, mask, memories, key_weight = make(n=9)
    leaves = [x.requires_grad_() for x in (words, memories, key_weight)]

    def texture(w, m, k):
        return memory_attention(w, mask, m, k, backend="fused", block_size=block_size).texture

    assert torch.autograd.gradcheck(texture, leaves)


class _LargestTensor(TorchDispatchMode):
    """Records the largest number of elements of any tensor an op produces."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for x in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(x, torch.Tensor):
                self.largest = max(self.largest, x.numel())
        return out


@pytest.mark.parametrize("backend, materialises", [("fused", False), ("reference", True)])
def test_only_the_reference_materialises_the_weights(backend, materialises):
    b, t, n, d = 4, 8, 2048, 8
    words, mask, memories, key_weight = make(b=b, t=t, n=n, d=d, big_d=d, dtype=torch.float32)
    leaves = [x.requires_grad_() for x in (words, memories, key_weight)]
    with _LargestTensor() as forward:
        out = memory_attention(words, mask, memories, key_weight, backend=backend, block_size=64)
    with _LargestTensor() as backward:
        out.texture.sum().backward()
    assert all(x.grad is not None for x in leaves)
    weights = b * t * n
    assert (max(forward.largest, backward.largest) >= weights) is materialises
    if not materialises:  # the biggest things are the (n, d) memories and their gradient
        assert max(forward.largest, backward.largest) <= max(n * d, b * t * 64)


# ------------------------------------------------------------------- triton (interpreted)

_TRITON_SCRIPT = textwrap.dedent(
    """
    import torch
    from textedit.ops.memory_attention import available_backends, memory_attention
    from textedit.ops._triton_memory_attention import _slot_chunk
    assert "triton" in available_backends(), available_backends()
    # The shapes below split the slots (the merge of partial results runs).
    assert _slot_chunk(120, 150, torch.device("cpu")) < 150
    # Several row and slot blocks (the kernels use blocks of 16 to 64).
    for dtype, (b, t, n, d, big_d) in [
        (torch.float64, (3, 40, 150, 20, 12)),
        (torch.float32, (2, 5, 130, 3, 5)),
    ]:
        g = torch.Generator().manual_seed(0)
        words = torch.randn(b, t, big_d, generator=g, dtype=dtype)
        mask = torch.rand(b, t, generator=g) < 0.8
        mask[:, 0] = True
        memories = torch.randn(n, d, generator=g, dtype=dtype)
        key_weight = torch.randn(big_d, d, generator=g, dtype=dtype) / 2
        upstream = torch.randn(b, t, d, generator=g, dtype=dtype)
        results = {}
        for backend in ("reference", "triton"):
            leaves = [x.clone().requires_grad_() for x in (words, memories, key_weight)]
            out = memory_attention(leaves[0], mask, leaves[1], leaves[2], backend=backend)
            (out.texture * upstream).sum().backward()
            results[backend] = [out.texture] + [x.grad for x in leaves]
        tol = dict(rtol=1e-9, atol=1e-10) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
        for a, e in zip(results["triton"], results["reference"]):
            torch.testing.assert_close(a, e, **tol)
    # Reduced precision: the kernels' bfloat16 result against the reference in float32 on
    # the same (rounded) inputs.
    g = torch.Generator().manual_seed(1)
    words, memories = torch.randn(2, 30, 8, generator=g), torch.randn(300, 24, generator=g)
    key_weight = torch.randn(8, 24, generator=g) / 4
    upstream = torch.randn(2, 30, 24, generator=g)
    results = {}
    for backend, dtype in (("reference", torch.float32), ("triton", torch.bfloat16)):
        leaves = [x.to(torch.bfloat16).to(dtype).requires_grad_() for x in (words, memories, key_weight)]
        out = memory_attention(leaves[0], None, leaves[1], leaves[2], backend=backend)
        assert out.texture.dtype == dtype
        (out.texture.float() * upstream).sum().backward()
        results[backend] = [out.texture] + [x.grad for x in leaves]
    for a, e in zip(results["triton"], results["reference"]):
        torch.testing.assert_close(a.float(), e, rtol=0.05, atol=0.05 * e.abs().max().item())
    print("triton-ok")
    """
)


def _interpreted(args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    # TRITON_INTERPRET is read when triton is imported, hence a fresh process.
    env = {**os.environ, "TRITON_INTERPRET": "1", "HYPOTHESIS_PROFILE": "interpreter"}
    env.pop(BACKEND_ENV_VAR, None)
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.subprocess
@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_kernels_match_the_reference_under_the_interpreter():
    result = _interpreted(["-c", _TRITON_SCRIPT])
    assert result.returncode == 0 and "triton-ok" in result.stdout, result.stderr[-4000:]


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_kernels_compile_for_hopper_without_a_gpu():
    # Triton compiles ahead of time for a named GPU with its bundled ptxas: every kernel, in
    # bfloat16 and float32, at the widest tile the autotuner keeps, fits an H100/H200
    # without spilling registers (benchmarks/triton_aot.py checks every configuration).
    import importlib.util as util
    from pathlib import Path

    import triton

    from textedit.ops._triton_memory_attention import _tuning_configs

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "triton_aot.py"
    spec = util.spec_from_file_location("triton_aot", path)
    aot = util.module_from_spec(spec)
    spec.loader.exec_module(aot)
    for name in ("forward", "dq", "dm"):
        for dtype, item in (("bf16", 2), ("fp32", 4)):
            widest = max(_tuning_configs(name, 256, item), key=lambda c: c.kwargs["BLOCK_R"] * c.kwargs["BLOCK_N"])
            row = aot.compile_one(name, widest, 256, dtype, 90)
            assert row["shared_kib"] * 1024 <= aot.SHARED_LIMIT[90], row
            assert row.get("local", 0) == 0, f"{name} {dtype} {widest} spills registers: {row}"
    assert isinstance(widest, triton.Config)


@pytest.mark.subprocess
@pytest.mark.slow  # 5-15 s on a shared 2-core CPU (10 examples a property)
@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_passes_the_property_tests_under_the_interpreter():
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.path.join(here, "..", "property", "test_memory_attention.py")
    result = _interpreted(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "triton", target]
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout, result.stdout[-2000:]


@pytest.mark.subprocess
def test_textedit_works_without_triton():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["triton"] = None  # makes `import triton` fail as if not installed
        import torch, textedit
        from textedit.errors import MissingDependencyError
        from textedit.ops import available_backends, memory_attention
        assert "triton" not in available_backends(), available_backends()
        w, m, k = torch.randn(2, 3, 4), torch.randn(300, 5), torch.randn(4, 5)
        memory_attention(w, None, m, k)
        memory_attention(w, None, m, k, backend="fused")
        try:
            memory_attention(w, None, m, k, backend="triton")
        except MissingDependencyError as error:
            assert "pip install triton" in str(error)
        else:
            raise AssertionError("expected MissingDependencyError")
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != BACKEND_ENV_VAR}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-4000:]
