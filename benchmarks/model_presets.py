"""Size, cost and speed of the model presets on this machine's CPU.

For each preset: parameters (discriminator apart), forward FLOPs of one edit (batch 1,
counted with ``torch.utils.flop_counter.FlopCounterMode``; the LSTMs are not counted by
it; for a text-to-image preset, one image drawn), FLOPs of one training iteration at batch 8, edit latency at batch 1, training
throughput at batch 8 and the peak memory of one training iteration at batch 8.

The training iteration is the model's own recipe (``recipe_step``): the recipe the trainer
runs, imported from the model's package (MIM-Net: reconstruction step, then D and G
adversarial steps; TAGAN: D step, G step with the reconstruction pass; SISGAN, ManiGAN and
the text-to-image models: D step, G step), with Adam per parameter group, without the trainer's data pipeline, EMA or logging.

    python benchmarks/model_presets.py                  # the default presets, markdown table
    python benchmarks/model_presets.py --presets mimnet_128 tagan_128 --repeats 20
    python benchmarks/model_presets.py --presets mimnet_128 --bf16 --channels-last --compile-edit

Throughput is also given in GFLOP/s (counted FLOPs over the median time), which compares
how well presets of different sizes use the CPU. ``--bf16`` autocasts edit and training to
bfloat16 (refused on CPUs without native bf16 arithmetic, where it is ~100x slower),
``--channels-last`` converts model and inputs, ``--compile-edit`` times the edit through
``torch.compile`` (``Composition.compile_components``; compile time reported apart).

Peak memory is measured in a fresh subprocess per preset as the growth of the peak
resident set size (``VmHWM``) over one training step, so it includes activations,
gradients and Adam state but not the Python/torch baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

import textedit
from textedit.interfaces import TrainingBatch
from textedit.registry.api import create_recipe
from textedit.utils.cpu import cpu_has_native_bf16

TEXTS = [
    "this bird has a red head and white wings",
    "a small yellow bird with black wings and a short beak",
    "the bird is blue with a white belly",
    "a grey bird with a long tail and a striped breast",
]
TARGETS = {  # preset -> (edit latency ms at batch 1, training images/s at batch 8, peak step GiB)
    "mimnet_128": (85.0, 1.6, None),
    "mimnet_256": (500.0, None, 4.0),
}


def _images(batch: int, size: int) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _texts(batch: int) -> list[str]:
    return [TEXTS[i % len(TEXTS)] for i in range(batch)]


def _infer(model, image: torch.Tensor, texts: list[str]):
    """The model's inference pass: an edit of ``image``, or for a text-to-image model the
    images ``texts`` describe (the image is not read)."""
    if isinstance(model, textedit.GeneratingModel):
        return model.generate(texts)
    return model.edit(image, texts)


class _Context:
    """The trainer's services a recipe uses (``TrainingContext``), without its data
    pipeline, EMA, schedule or logging: float32 (or bfloat16 autocast), one Adam per
    parameter group."""

    def __init__(self, bf16: bool = False, device_type: str = "cpu"):
        self.groups: dict[str, list[torch.nn.Parameter]] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.bf16, self.device_type = bf16, device_type

    def autocast(self):
        return _autocast(self.bf16, self.device_type)

    def update(self, group: str, loss: torch.Tensor) -> None:
        optimizer = self.optimizers[group]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _autocast(bf16: bool, device_type: str = "cpu"):
    return torch.autocast(device_type, torch.bfloat16) if bf16 else contextlib.nullcontext()


def recipe_step(model, bf16: bool = False, fused: bool = False):
    """The model's own training iteration: its default recipe with its default weights
    (``textedit.interfaces.recipe``), on a fixed batch whose mismatched descriptions are the
    batch's own rolled by one; ``bf16`` autocasts on the model's device, ``fused`` uses
    Adam's fused kernel."""
    context = _Context(bf16, model.device.type)
    recipe = create_recipe(model.default_recipe, model, context)
    context.groups = recipe.parameter_groups()
    context.optimizers = {
        name: torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=fused or None)
        for name, params in context.groups.items()
    }

    def step(image, texts):
        batch = TrainingBatch(
            image=image,
            tokens=model.tokenize(texts),
            mismatched_tokens=model.tokenize(texts[1:] + texts[:1]),
            seeds=list(range(len(texts))),
        )
        recipe.step(batch)

    return step


def measure(
    name: str, repeats: int, train_steps: int, bf16: bool = False, channels_last: bool = False,
    compile_edit: bool = False, peak: bool = True,
) -> dict:
    torch.manual_seed(0)
    model = textedit.create_model(name)
    size = model.image_size
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    row = {
        "preset": name,
        "params_g_M": (model.num_parameters() - model.discriminator.num_parameters()) / 1e6,
        "params_d_M": model.discriminator.num_parameters() / 1e6,
    }
    model.eval()
    image = _images(1, size).contiguous(memory_format=fmt)
    with FlopCounterMode(display=False) as counter:
        _infer(model, image, _texts(1))
    row["edit_gflop"] = counter.get_total_flops() / 1e9
    if compile_edit:
        start = time.perf_counter()
        model.compile_components()
        with _autocast(bf16):
            _infer(model, image, _texts(1))
        row["compile_s"] = time.perf_counter() - start
    with _autocast(bf16):
        for _ in range(3):
            _infer(model, image, _texts(1))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            _infer(model, image, _texts(1))
            times.append(time.perf_counter() - start)
    row["edit_ms_median"] = 1e3 * statistics.median(times)
    row["edit_ms_min"] = 1e3 * min(times)
    row["edit_gflop_s"] = row["edit_gflop"] / statistics.median(times)
    if compile_edit:  # training is timed eagerly: compiling it did not pay on the CPU
        torch.manual_seed(0)
        model = textedit.create_model(name).to(memory_format=fmt)

    model.train()
    batch, texts = _images(8, size).contiguous(memory_format=fmt), _texts(8)
    step = recipe_step(model, bf16)
    step(batch, texts)  # warm-up
    with FlopCounterMode(display=False) as counter:
        step(batch, texts)
    row["train_gflop"] = counter.get_total_flops() / 1e9
    times = []
    for _ in range(train_steps):
        start = time.perf_counter()
        step(batch, texts)
        times.append(time.perf_counter() - start)
    row["train_img_s_median"] = 8 / statistics.median(times)
    row["train_img_s_best"] = 8 / min(times)
    row["train_gflop_s"] = row["train_gflop"] / statistics.median(times)
    row["train_peak_gib"] = _peak_memory_subprocess(name) if peak else float("nan")
    return row


def _peak_memory_subprocess(name: str) -> float:
    """Growth of the peak RSS over one batch-8 training iteration, in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--peak-of", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def peak_of(name: str) -> float:
    torch.manual_seed(0)
    model = textedit.create_model(name).train()
    size = model.image_size
    step = recipe_step(model)
    batch, texts = _images(8, size), _texts(8)
    before = _peak_rss_kib()
    step(batch, texts)
    return (_peak_rss_kib() - before) / 2**20


def _peak_rss_kib() -> int:
    """Peak resident set size of this process (``VmHWM``; unlike ``ru_maxrss`` it is not
    inherited from the parent through fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _verdict(row: dict) -> str:
    target = TARGETS.get(row["preset"])
    if target is None:
        return "—"
    parts = []
    edit_ms, img_s, gib = target
    if edit_ms is not None:
        parts.append(f"edit ≤ {edit_ms:g} ms: {'met' if row['edit_ms_median'] <= edit_ms else 'MISSED'}")
    if img_s is not None:
        parts.append(f"training ≥ {img_s:g} img/s: {'met' if row['train_img_s_median'] >= img_s else 'MISSED'}")
    if gib is not None:
        parts.append(f"step < {gib:g} GiB: {'met' if row['train_peak_gib'] <= gib else 'MISSED'}")
    return "; ".join(parts)


def to_markdown(rows: list[dict]) -> str:
    head = (
        "| preset | params G / D (M) | edit GFLOP (b=1) | training GFLOP (b=8) | edit ms median (min) "
        "| training img/s b=8 median (best) | GFLOP/s edit / training | peak GiB b=8 | targets |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    lines = [
        f"| {r['preset']} | {r['params_g_M']:.2f} / {r['params_d_M']:.2f} | {r['edit_gflop']:.2f} "
        f"| {r['train_gflop']:.1f} | {r['edit_ms_median']:.0f} ({r['edit_ms_min']:.0f}) "
        f"| {r['train_img_s_median']:.2f} ({r['train_img_s_best']:.2f}) "
        f"| {r['edit_gflop_s']:.0f} / {r['train_gflop_s']:.0f} "
        f"| {r['train_peak_gib']:.2f} | {_verdict(r)} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets", nargs="*", default=["mimnet_64", "tagan_64", "sisgan_64", "mimnet_128", "mimnet_256"]
    )
    parser.add_argument("--repeats", type=int, default=15, help="edits timed per preset")
    parser.add_argument(
        "--train-steps", type=int, default=3, help="training steps timed per preset"
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's); 1 is steadier on a busy machine",
    )
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CPUs with native bf16 only)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last model and inputs")
    parser.add_argument("--compile-edit", action="store_true", help="time the edit through torch.compile")
    parser.add_argument("--no-peak", action="store_true", help="skip the peak-memory subprocess")
    parser.add_argument("--peak-of", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.peak_of:
        print(peak_of(args.peak_of))
        return
    if args.bf16 and not cpu_has_native_bf16():
        parser.error(
            "--bf16: this CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX); "
            "bfloat16 would run about 100x slower than float32 here"
        )
    options = dict(bf16=args.bf16, channels_last=args.channels_last, compile_edit=args.compile_edit)
    rows = [
        measure(name, args.repeats, args.train_steps, peak=not args.no_peak, **options)
        for name in args.presets
    ]
    load = " ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    flags = ", ".join(k for k, v in options.items() if v) or "float32"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {flags}, "
        f"load average after: {load}"
    )
    print(json.dumps(rows, indent=2) if args.json else to_markdown(rows))


if __name__ == "__main__":
    main()
