"""What runs on CUDA: training (device cuda / cuda:0 / auto, bf16, channels-last, fused Adam,
pinned batches from workers, exact resume), editing, drawing from text, and the Triton memory-attention
kernels against the reference. Every test here carries the ``gpu`` marker: it is skipped
on machines without CUDA and is run on the lent GPU machine with ``pytest -m gpu``."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from textedit.ops.memory_attention import memory_attention, resolve_backend
from textedit.testing import TINY_MIMNET as TINY_MODEL

pytestmark = pytest.mark.gpu

HAS_TRITON = importlib.util.find_spec("triton") is not None


def _config(tmp_path, name="run", **fields):
    from textedit.training.config import TrainConfig

    data = {
        "model": TINY_MODEL,
        "data": {"type": "synthetic", "family": "birds", "num_images": 12, "sample_split": "test"},
        "recipe": {"losses": {"true_edit": 1.0}},
        "batch_size": 4,
        "steps": 4,
        "checkpoint_every": 2,
        "sample_every": 2,
        "num_samples": 2,
        "output_dir": str(tmp_path / name),
    }
    data.update(fields)
    return TrainConfig.model_validate(data)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "auto"])
def test_training_runs_on_cuda(tmp_path, device):
    from textedit.training.trainer import Trainer

    trainer = Trainer(_config(tmp_path, device=device), progress=False)
    assert trainer.device == torch.device("cuda:0")
    assert trainer.data.pin_memory, "batches are pinned by default on CUDA"
    assert all(g["fused"] for o in trainer.optimizers.values() for g in o.param_groups)
    assert trainer.train() is not None


def test_cuda_training_with_bf16_workers_and_channels_last_resumes_exactly(tmp_path):
    from textedit.training.checkpoint import latest_checkpoint, load_checkpoint
    from textedit.training.trainer import Trainer

    fields = dict(
        device="cuda", mixed_precision="bf16", channels_last=True,
        data={"type": "synthetic", "family": "birds", "num_images": 12, "num_workers": 2},
    )
    Trainer(_config(tmp_path, "full", **fields), progress=False).train()
    Trainer(_config(tmp_path, "parts", **fields), progress=False).train(max_steps=2)
    Trainer(_config(tmp_path, "parts", **fields), resume=True, progress=False).train()
    full = load_checkpoint(latest_checkpoint(tmp_path / "full" / "checkpoints"))["model"]
    parts = load_checkpoint(latest_checkpoint(tmp_path / "parts" / "checkpoints"))["model"]
    for key in full:
        # cuDNN may pick other algorithms in another process: equal to rounding, not bits
        torch.testing.assert_close(full[key], parts[key], rtol=1e-3, atol=1e-4, msg=key)


def test_editing_on_cuda_matches_the_cpu():
    import textedit

    torch.manual_seed(0)
    model = textedit.create_model(TINY_MODEL).eval()
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    texts = ["a bird with a red head", "a bird with blue wings"]
    on_cpu = model.edit(image, texts)
    on_gpu = model.to("cuda").edit(image.cuda(), texts)
    torch.testing.assert_close(on_gpu.images[-1].cpu(), on_cpu.images[-1], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", ["attngan", "stackgan", "gan_int_cls"])
def test_drawing_on_cuda_matches_the_cpu_and_one_training_step_runs(name, tmp_path):
    import textedit
    from textedit.registry.api import resolve_model_config

    composition, _ = resolve_model_config(name)
    torch.manual_seed(0)
    model = composition.from_config(composition.example_config()).eval()
    texts = ["a bird with a red head", "a bird with blue wings"]
    on_cpu = model.generate(texts, seed=3, allow_unknown=True)
    on_gpu = model.to("cuda").generate(texts, seed=3, allow_unknown=True)
    assert on_gpu.fine.device.type == "cuda"
    torch.testing.assert_close(on_gpu.fine.cpu(), on_cpu.fine, rtol=1e-3, atol=1e-3)
    from textedit.training.trainer import Trainer

    spec = {**composition.example_config().to_dict(), "type": name}
    exported = Trainer(_config(tmp_path, model=spec, recipe={}, steps=2, device="cuda"), progress=False).train()
    assert isinstance(textedit.load(exported), textedit.GeneratingModel)


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("b, t, n, width", [(8, 18, 4096, 256), (3, 7, 1000, 40), (32, 32, 300, 256), (1, 1, 17, 8)])
def test_triton_kernels_match_the_reference_on_cuda(b, t, n, width, dtype):
    g = torch.Generator(device="cuda").manual_seed(0)
    kw = dict(device="cuda", generator=g)
    words = torch.randn(b, t, width, **kw)
    mask = torch.rand(b, t, **kw) < 0.8
    mask[:, 0] = True
    memories = torch.randn(n, width, **kw)
    key_weight = torch.randn(width, width, **kw) / width
    upstream = torch.randn(b, t, width, **kw)
    results = {}
    for backend, kind in (("reference", torch.float32), ("triton", dtype)):
        leaves = [x.to(dtype).to(kind).requires_grad_() for x in (words, memories, key_weight)]
        out = memory_attention(leaves[0], mask, leaves[1], leaves[2], backend=backend)
        (out.texture.float() * upstream).sum().backward()
        results[backend] = [out.texture.float()] + [x.grad.float() for x in leaves]
    for got, expected in zip(results["triton"], results["reference"]):
        scale = expected.abs().max().item()
        tol = dict(rtol=1e-4, atol=1e-5 * scale) if dtype == torch.float32 else dict(rtol=0.05, atol=0.05 * scale)
        torch.testing.assert_close(got, expected, **tol)


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_with_tf32_stays_close_and_auto_picks_a_backend():
    words = torch.randn(8, 18, 256, device="cuda")
    memories = torch.randn(65536, 256, device="cuda")
    key_weight = torch.randn(256, 256, device="cuda") / 256
    exact = memory_attention(words, None, memories, key_weight, backend="reference").texture
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")  # TF32
    try:
        fast = memory_attention(words, None, memories, key_weight, backend="triton").texture
    finally:
        torch.set_float32_matmul_precision(previous)
    torch.testing.assert_close(fast, exact, rtol=2e-2, atol=2e-2 * exact.abs().max().item())
    assert resolve_backend("auto", words, memories, key_weight) in ("reference", "triton")


def _forward_peak(backend, *inputs) -> int:
    """Bytes the forward pass allocates beyond its inputs, at its peak."""
    with torch.no_grad():
        memory_attention(*inputs, backend=backend)  # compile and autotune first
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        memory_attention(*inputs, backend=backend)
        torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


@pytest.mark.skipif(not HAS_TRITON, reason="triton is not installed")
def test_triton_forward_needs_a_tenth_of_the_references_memory_at_65536_slots():
    inputs = (
        torch.randn(8, 18, 256, device="cuda"), None,
        torch.randn(65536, 256, device="cuda"), torch.randn(256, 256, device="cuda") / 256,
    )
    reference, triton = _forward_peak("reference", *inputs), _forward_peak("triton", *inputs)
    assert triton <= reference / 10, f"triton {triton / 2**20:.1f} MiB, reference {reference / 2**20:.1f} MiB"


def test_pinned_batches_hold_the_same_data(tmp_path):
    from textedit.training.data import build_training_data

    plain = build_training_data(_config(tmp_path, device="cpu"))
    pinned = build_training_data(
        _config(tmp_path, data={"type": "synthetic", "family": "birds", "num_images": 12, "pin_memory": True})
    )
    a, b = plain.batch(0), pinned.batch(0)
    assert b.images.is_pinned() and b.mismatched_targets.is_pinned()
    assert torch.equal(a.images, b.images) and torch.equal(a.mismatched_targets, b.mismatched_targets)
