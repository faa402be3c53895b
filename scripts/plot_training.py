"""Plot the loss curves of a training run: ``python scripts/plot_training.py RUN_DIR OUT.png``.

Reads ``RUN_DIR/metrics.jsonl`` (written by ``textedit train``) and draws, against the step,
the reconstruction-stage losses (L1, pseudo ground truth, random memory), the adversarial
losses of both players and the throughput, smoothed with a moving average.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < window or window < 2:
        return values
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.convolve(padded, kernel, mode="valid")


PANELS = [
    ("reconstruction stage", [("rec_l1", "L1 (sum over stages)"), ("pgt", "pseudo GT ‖W_g g − p‖₁"), ("mem", "random memory −log D_r")]),
    ("discriminator", [("d_reality", "reality"), ("d_conformity", "text conformity")]),
    ("generator (adversarial step)", [("g_reality", "−log D_r(G(x, t̂))"), ("g_conformity", "−log D_c(G(x, t̂), t̂)"), ("true_edit_l1", "L1 to the true edit")]),
    ("paired terms (generated data)", [("edit_region_l1", "L1 in the edited region"), ("edit_mask_bce", "edit-mask cross-entropy")]),
    ("throughput", [("images_per_s", "images / s")]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--window", type=int, default=10, help="moving-average window in logged points")
    parser.add_argument("--metrics", type=Path, default=None, help="read this metrics.jsonl instead of RUN/metrics.jsonl")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from textedit.training.metrics import read_metrics

    source = args.metrics or args.run / "metrics.jsonl"
    records = read_metrics(source)
    if not records:
        raise SystemExit(f"{source} has no records")
    steps = np.array([r["step"] for r in records])
    panels = [(t, s) for t, s in PANELS if any(k in r for k, _ in s for r in records)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    for ax, (title, series) in zip(axes, panels):
        for key, label in series:
            if not any(key in r for r in records):
                continue  # a loss the run did not use (true_edit_l1 without losses.true_edit)
            values = np.array([r.get(key, np.nan) for r in records], dtype=float)
            ax.plot(steps, smooth(values, args.window), label=label, linewidth=1.2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
