"""Benchmark the training data pipeline: images per second delivered to the trainer.

Measures :meth:`textedit.training.data.TrainingData.batch`, the call the trainer makes each
step, for the data of ``mimnet64_birds_paired`` (generated birds, half the captions
reworded, true edits for the paired losses), from two sources:

* ``synthetic``: drawn on the fly (each item renders its scene and its true edit);
* ``packed``: read from a folder written by ``textedit data pack`` (memory-mapped arrays).

For each source, image size and worker count: a fresh :class:`TrainingData`, ``--warmup``
batches (workers start, caches fill), then ``--batches`` batches timed; images/s =
batch size × batches / seconds. Packing time is reported too (it is paid once).

Usage::

    python benchmarks/data_pipeline.py                          # 64 and 128 px, 0/1/2 workers
    python benchmarks/data_pipeline.py --workers 0 1 2 16 --out results.json
    python benchmarks/data_pipeline.py --sizes 64 --n 400 --batches 5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

from textedit.data.packed import pack_generated
from textedit.data.synthetic.data import SyntheticSpec
from textedit.training.config import TrainConfig
from textedit.training.data import build_training_data


def config(source: str, size: int, n: int, workers: int, batch: int, root: Path | None) -> TrainConfig:
    """A training config with the data of mimnet64_birds_paired at ``size`` px."""
    data = {"family": "birds", "num_images": n, "reword": 0.5, "num_workers": workers, "pin_memory": False}
    data.update({"type": "packed", "root": str(root)} if source == "packed" else {"type": "synthetic"})
    return TrainConfig.model_validate({
        "model": {"type": f"mimnet_{size}"},
        "data": data,
        "recipe": {"type": "mimnet", "losses": {"true_edit": 10.0, "edit_region": 2.0, "edit_region_weighting": "part"}},
        "batch_size": batch,
        "steps": 1,
        "device": "cpu",
    })


def measure(cfg: TrainConfig, warmup: int, batches: int) -> float:
    """Images per second :meth:`TrainingData.batch` delivers, after ``warmup`` batches."""
    data = build_training_data(cfg)
    for step in range(warmup):
        data.batch(step)
    start = time.perf_counter()
    for step in range(warmup, warmup + batches):
        data.batch(step)
    return cfg.batch_size * batches / (time.perf_counter() - start)


def table(rows: list[dict]) -> str:
    lines = ["| source | size | workers | images/s |", "|---|---:|---:|---:|"]
    lines += [f"| {r['source']} | {r['size']} | {r['workers']} | {r['images_per_s']:.0f} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sources", nargs="+", default=["synthetic", "packed"], choices=["synthetic", "packed"])
    parser.add_argument("--n", type=int, default=2000, help="images in the data set (default 2000)")
    parser.add_argument("--edits-per-image", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--pack-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--packed-dir", help="where to keep the packed data sets (default: a temporary folder)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    rows: list[dict] = []
    packing: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.packed_dir or tmp)
        for size in args.sizes:
            root = base / f"birds{size}_n{args.n}_k{args.edits_per_image}"
            if "packed" in args.sources and not (root / "packed.json").is_file():
                start = time.perf_counter()
                spec = SyntheticSpec(family="birds", n=args.n, seed=0)
                pack_generated(root, spec, size, args.edits_per_image, workers=args.pack_workers, overwrite=True)
                packing[size] = time.perf_counter() - start
                print(f"packed {args.n} images at {size} px in {packing[size]:.1f} s "
                      f"({args.pack_workers} processes)", flush=True)
            for source in args.sources:
                for workers in args.workers:
                    cfg = config(source, size, args.n, workers, args.batch, root)
                    rate = measure(cfg, args.warmup, args.batches)
                    rows.append({"source": source, "size": size, "workers": workers, "images_per_s": rate})
                    print(f"{source:9s} {size:4d} px  {workers:2d} workers  {rate:8.0f} images/s", flush=True)
    print()
    print(table(rows))
    if args.out:
        meta = {"cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(),
                "torch": torch.__version__, "argv": sys.argv[1:], "packing_s": packing}
        Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
