"""One script for a lent GPU: kernel times, edit latency and throughput, training speed and
peak memory per preset, the trainer end to end, and the data pipeline, as one table each.

Sections (``--sections``, all by default, in this order):

* ``kernels``: memory attention at word width 256 for ``b×t`` ∈ {8×18, 32×32, 256×32} and
  N ∈ {4 096, 16 384, 65 536}, every backend, float32 with TF32 allowed (as PyTorch's
  matmuls then run): median time of the forward pass (no grad) and of forward + backward
  (gradients for words, memories and key projection), peak memory each adds, and the
  ratios to the reference. The first call of each shape (Triton's autotuning) is not timed.
  Ends with the measured crossover (the smallest ``b·t·n`` from which triton is at least as
  fast as the reference), the row to put in ``textedit.ops.memory_attention._TRITON_CROSSOVERS``.
* ``edit``: per preset, bf16 autocast and channels-last on CUDA: latency at batch 1 and
  throughput at batch 64 of ``model.edit_tensors``, peak memory.
* ``train``: per preset, the model's own recipe step (``benchmarks/model_presets.py``) at
  batch 64, bf16, channels-last, fused Adam: images/s and peak memory.
* ``trainer``: ``textedit train``'s loop (``Trainer.train_step``: data, recipe, EMA) for
  ``mimnet64_birds_paired`` at batch 64, from on-the-fly generated data and from a packed
  data set, with ``--workers`` DataLoader workers: images/s.
* ``data``: ``benchmarks/data_pipeline.py`` at 64 and 128 px with 1, 2 and 16 workers.

Each section's rows go to ``--out`` (JSON and markdown) as soon as it ends, so a run that is
stopped keeps what it finished; a section that fails is recorded with its error and the
next one runs.

Usage, on the lent GPU machine (see docs/gpu.md for the whole command)::

    python benchmarks/gpu.py --out results/          # everything (a budget of 5 minutes on an H200)
    python benchmarks/gpu.py --sections kernels --out results/
    python benchmarks/gpu.py --device cpu --quick     # the smoke test the suite runs
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
SECTIONS = ("kernels", "edit", "train", "trainer", "data")


@functools.lru_cache(maxsize=None)
def _sibling(name: str):
    """A sibling benchmark script as a module (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _median_ms(fn, device: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _peak(device: str):
    """``benchmarks/memory_attention.py``'s peak-memory probe: ``.bytes`` the block added at
    its peak (CUDA allocator; resident set size on the CPU)."""
    return _sibling("memory_attention")._PeakMemory(device.split(":")[0])


def _autocast(device: str, bf16: bool):
    return _sibling("model_presets")._autocast(bf16, device.split(":")[0])


# ------------------------------------------------------------------------------ sections


def kernels(args) -> list[dict]:
    from textedit.ops.memory_attention import available_backends

    bench = _sibling("memory_attention")
    shapes = [(2, 3)] if args.quick else [(8, 18), (32, 32), (256, 32)]
    slots = [256, 1024] if args.quick else [4096, 16384, 65536]
    width = 16 if args.quick else 256
    backends = [b for b in available_backends() if b != "triton" or args.device.startswith("cuda")]
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")  # TF32 on, for every backend alike
    rows = []
    try:
        for b, t in shapes:
            spec = {"device": args.device.split(":")[0], "dtype": "float32", "b": b, "t": t, "d": width, "D": width}
            inputs, steps = bench._setup(spec)
            for n in slots:
                tensors = inputs(n)
                for backend in backends:
                    row = {"b": b, "t": t, "n": n, "backend": backend}
                    for step, fn in steps.items():
                        call = lambda: fn(backend, *[x.detach() for x in tensors])  # noqa: E731
                        call()  # compile / autotune
                        with _peak(args.device) as peak:
                            call()
                        row[f"{step}_ms"] = _median_ms(call, args.device, args.repeats)
                        row[f"{step}_mib"] = peak.bytes / 2**20
                    rows.append(row)
                    print(f"  {b}x{t} N={n} {backend}: forward {row['forward_ms']:.2f} ms, "
                          f"train {row['train_ms']:.2f} ms", flush=True)
    finally:
        torch.set_float32_matmul_precision(previous)
    for row in rows:
        ref = next(r for r in rows if (r["b"], r["t"], r["n"]) == (row["b"], row["t"], row["n"]) and r["backend"] == "reference")
        row["forward_vs_reference"] = row["forward_ms"] / ref["forward_ms"]
        row["train_vs_reference"] = row["train_ms"] / ref["train_ms"]
    return rows


def crossover(rows: list[dict]) -> dict[str, int | None]:
    """Smallest ``b·t·n`` of the kernel rows from which triton is at least as fast as the
    reference in every larger row measured (forward, training), or None."""
    out: dict[str, int | None] = {}
    triton_rows = sorted((r for r in rows if r["backend"] == "triton"), key=lambda r: r["b"] * r["t"] * r["n"])
    for step in ("forward", "train"):
        best = None
        for r in reversed(triton_rows):
            if r[f"{step}_vs_reference"] > 1.0:
                break
            best = r["b"] * r["t"] * r["n"]
        out[step] = best
    return out


def _presets(args) -> list[str]:
    return ["mimnet_64"] if args.quick else ["mimnet_64", "mimnet_128", "mimnet_256", "tagan_128", "sisgan_128"]


def _create(args, name: str):
    """Preset ``name`` with fresh weights; with ``--quick``, narrowed to the test kit's widths."""
    import textedit
    from textedit.testing import TINY_MIMNET

    torch.manual_seed(0)
    tiny = {slot: fields for slot, fields in TINY_MIMNET.items() if slot != "type"} if args.quick else {}
    return textedit.create_model(name, **tiny).to(args.device, memory_format=torch.channels_last)


def edit(args) -> list[dict]:
    rows = []
    for name in _presets(args):
        model = _create(args, name).eval()
        size = model.image_size
        row = {"preset": name}
        for batch in (1, args.batch):
            image = (torch.rand(batch, 3, size, size, device=args.device) * 2 - 1).contiguous(memory_format=torch.channels_last)
            tokens = model.tokenize(["this bird has a red head and white wings"] * batch).to(args.device)
            call = lambda: model.edit_tensors(image, tokens)  # noqa: E731
            with torch.no_grad(), _autocast(args.device, args.bf16):
                call()
                with _peak(args.device) as peak:
                    call()
                ms = _median_ms(call, args.device, args.repeats)
            row[f"b{batch}_ms"] = ms
            row[f"b{batch}_images_per_s"] = batch / ms * 1e3
            row[f"b{batch}_mib"] = peak.bytes / 2**20
        rows.append(row)
        print(f"  {name}: {row['b1_ms']:.2f} ms at batch 1, {row[f'b{args.batch}_images_per_s']:.0f} images/s "
              f"at batch {args.batch}", flush=True)
    return rows


def train(args) -> list[dict]:
    presets = _sibling("model_presets")
    rows = []
    for name in _presets(args):
        model = _create(args, name).train()
        size = model.image_size
        step = presets.recipe_step(model, bf16=args.bf16, fused=args.device.startswith("cuda"))
        images = (torch.rand(args.batch, 3, size, size, device=args.device) * 2 - 1).contiguous(memory_format=torch.channels_last)
        texts = presets._texts(args.batch)
        call = lambda: step(images, texts)  # noqa: E731
        call()
        with _peak(args.device) as peak:
            call()
        ms = _median_ms(call, args.device, max(1, args.repeats // 4))
        rows.append({"preset": name, "batch": args.batch, "step_ms": ms,
                     "images_per_s": args.batch / ms * 1e3, "peak_mib": peak.bytes / 2**20})
        print(f"  {name}: {rows[-1]['images_per_s']:.0f} images/s, {rows[-1]['peak_mib']:.0f} MiB", flush=True)
    return rows


def trainer(args) -> list[dict]:
    import yaml

    from textedit.data.packed import pack_generated
    from textedit.data.synthetic.data import SyntheticSpec
    from textedit.testing import TINY_MIMNET
    from textedit.training.config import TrainConfig, find_config
    from textedit.training.trainer import Trainer

    rows = []
    n = 60 if args.quick else 4000
    warmup, steps = (1, 1) if args.quick else (3, 20)
    batch = 8 if args.quick else args.batch
    with tempfile.TemporaryDirectory() as tmp:
        packed = Path(tmp) / "packed"
        start = time.perf_counter()
        edits, workers = (1, 0) if args.quick else (4, os.cpu_count() or 1)
        pack_generated(packed, SyntheticSpec(family="birds", n=n), 64, edits, workers=workers)
        print(f"  packed {n} images in {time.perf_counter() - start:.1f} s", flush=True)
        for source in ("synthetic", "packed"):
            config = yaml.safe_load(find_config("mimnet64_birds_paired").read_text())
            data = {**config["data"], "num_images": n, "num_workers": args.workers}
            if source == "packed":
                data.update(type="packed", root=str(packed))
            config.update(
                data=data, batch_size=batch, steps=10**6, device=args.device, output_dir=str(Path(tmp) / source),
                checkpoint_every=10**6, sample_every=10**6, mixed_precision="bf16" if args.bf16 else "no",
                threads=None,
            )
            if args.quick:  # the test kit's tiny widths, the config's options kept
                for slot, fields in TINY_MIMNET.items():
                    if slot != "type":
                        config["model"][slot] = {**config["model"].get(slot, {}), **fields}
            run = Trainer(TrainConfig.model_validate(config), progress=False)
            for _ in range(warmup):
                run.train_step()
            _sync(args.device)
            start = time.perf_counter()
            for _ in range(steps):
                run.train_step()
            _sync(args.device)
            rate = batch * steps / (time.perf_counter() - start)
            rows.append({"config": "mimnet64_birds_paired", "source": source, "workers": args.workers,
                         "batch": batch, "images_per_s": rate})
            print(f"  {source}: {rate:.0f} images/s", flush=True)
            del run
    return rows


def data(args) -> list[dict]:
    pipeline = _sibling("data_pipeline")
    out = Path(tempfile.mkdtemp()) / "data.json"
    workers = ["0", "1"] if args.quick else ["1", "2", "16"]
    sizes = ["64"] if args.quick else ["64", "128"]
    argv = ["--sizes", *sizes, "--workers", *workers, "--batches", "10", "--out", str(out)]
    if args.quick:
        argv += ["--n", "60", "--batches", "2", "--batch", "8", "--edits-per-image", "1", "--pack-workers", "0"]
    pipeline.main(argv)
    return json.loads(out.read_text())["rows"]


# ------------------------------------------------------------------------------ output


def markdown(section: str, rows: list[dict]) -> str:
    if not rows:
        return f"### {section}\n\n(no rows)\n"
    keys = list(rows[0])
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = [f"### {section}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8, help="DataLoader workers of the trainer section")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", help="float32 instead of bf16 autocast")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of the script")
    parser.add_argument("--out", help="folder for results.json and results.md")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here; use --device cpu --quick for a smoke test")
    if args.quick:
        args.batch, args.repeats, args.workers = min(args.batch, 4), min(args.repeats, 3), min(args.workers, 1)

    device_name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "cpu"
    results = {
        "meta": {"date": datetime.date.today().isoformat(), "device": device_name, "torch": torch.__version__,
                 "cpus": os.cpu_count(), "argv": sys.argv[1:] if argv is None else argv, "bf16": args.bf16},
        "sections": {},
    }
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    functions = {"kernels": kernels, "edit": edit, "train": train, "trainer": trainer, "data": data}
    for section in args.sections:
        print(f"== {section}", flush=True)
        start = time.perf_counter()
        try:
            rows = functions[section](args)
            entry = {"rows": rows, "seconds": time.perf_counter() - start}
            if section == "kernels":
                entry["crossover"] = crossover(rows)
                print(f"  crossover (b·t·n from which triton wins): {entry['crossover']}", flush=True)
        except Exception as exc:  # record and go on: one broken section must not lose the rest
            traceback.print_exc()
            entry = {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - start}
        results["sections"][section] = entry
        if out:
            (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
            text = f"# {device_name}, {results['meta']['date']}, torch {torch.__version__}\n\n"
            for name, e in results["sections"].items():
                text += markdown(name, e.get("rows", [])) if "rows" in e else f"### {name}\n\nfailed: {e['error']}\n"
                text += "\n"
            (out / "results.md").write_text(text)
    for name, e in results["sections"].items():
        print(markdown(name, e.get("rows", [])) if "rows" in e else f"### {name}: failed: {e['error']}")
    return 1 if any("error" in e for e in results["sections"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
