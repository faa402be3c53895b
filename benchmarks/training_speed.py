"""How fast a training config trains here, its data included.

    python benchmarks/training_speed.py --config mimnet64_birds_paired threads=1
    python benchmarks/training_speed.py --config mimnet64_birds_paired threads=1 data.num_workers=0

Builds ``textedit train``'s trainer for the config (overrides as on its command line), runs
``--warmup`` steps, then times ``--steps`` calls of ``Trainer.train_step`` — one iteration
of the config's recipe on the batch its data stream delivers, drawn or read as configured,
without checkpoints, samples or logging — and prints milliseconds per step and images per
second. The run folder is temporary.

To compare two versions of the code on one machine, run it from each checkout in turn, more
than once: ``PYTHONPATH=OTHER_CHECKOUT/src python benchmarks/training_speed.py ...`` runs
the other one's ``textedit`` with this script.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import textedit
from textedit.config.io import apply_overrides, read_config_file
from textedit.training.config import TrainConfig, find_config
from textedit.training.trainer import Trainer


def measure(config: str, overrides: list[str], steps: int = 40, warmup: int = 5) -> dict[str, float]:
    """``ms_per_step`` (mean over ``steps``), ``ms_median``, ``images_per_s`` and ``batch``."""
    raw = apply_overrides(read_config_file(find_config(config)), overrides)
    with tempfile.TemporaryDirectory() as tmp:
        raw.update(output_dir=f"{tmp}/run", steps=max(raw.get("steps", 0), warmup + steps))
        trainer = Trainer(TrainConfig.model_validate(raw), progress=False)
        for _ in range(warmup):
            trainer.train_step()
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            trainer.train_step()
            times.append(time.perf_counter() - start)
        trainer.data.close()
    batch = trainer.config.batch_size
    mean = sum(times) / len(times)
    return {"batch": batch, "ms_per_step": 1e3 * mean, "ms_median": 1e3 * statistics.median(times),
            "images_per_s": batch / mean}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="a shipped config's name or a YAML file")
    parser.add_argument("--steps", type=int, default=40, help="timed steps (default 40)")
    parser.add_argument("--warmup", type=int, default=5, help="steps run first, untimed (default 5)")
    parser.add_argument("overrides", nargs="*", help="key=value, as for textedit train")
    args = parser.parse_args(argv)
    row = measure(args.config, args.overrides, args.steps, args.warmup)
    print(f"{args.config} {' '.join(args.overrides)} (textedit {textedit.__version__} from "
          f"{textedit.__file__.rsplit('/textedit/', 1)[0]}): {row['ms_per_step']:.0f} ms/step "
          f"(median {row['ms_median']:.0f}), {row['images_per_s']:.1f} images/s at batch {row['batch']}")


if __name__ == "__main__":
    main()
