"""Draw the figures of docs/evaluation.md from a `textedit eval` output folder.

    python benchmarks/evaluation_figures.py runs/eval_birds64 --out docs/assets/evaluation

Writes ``metrics.png`` (the exact metrics and Sim of each model, one bar per model, read from
``results.json``) and ``gallery.png`` (the first items of the gallery: input, true edit and
each model's output, read from the saved PNG files). Nothing is recomputed: the figures show
the saved numbers and images.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: metrics drawn, each in [0, 1]; lower-is-better ones are marked in the title
PANELS = (
    ("attr_acc", "attribute accuracy ↑"),
    ("edit_acc", "edit accuracy ↑"),
    ("l1", "L1 to the true edit ↓"),
    ("bg_change", "background change ↓"),
    ("unmentioned_change", "unmentioned-part change ↓"),
    ("sim", "Sim (DAMSM) ↑"),
)


def metrics_figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(results["models"])
    panels = [(k, t) for k, t in PANELS if any(k in m["results"] for m in results["models"].values())]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.3 * len(panels), 2.8), squeeze=False)
    colours = ["#888888", "#3b75af", "#e08a2c", "#4a9e5c", "#a55194"]
    for ax, (key, title) in zip(axes[0], panels):
        means = [results["models"][l]["results"].get(key, {}).get("mean") or 0.0 for l in labels]
        stds = [results["models"][l]["results"].get(key, {}).get("std") or 0.0 for l in labels]
        ax.bar(range(len(labels)), means, yerr=stds, capsize=3, color=colours[: len(labels)])
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylim(min(0.0, min(means) - 0.05), max(1.0 if key != "sim" else 0.0, max(means) * 1.15))
    fig.suptitle(f"{results['config']['data']['name']}: {results['n']} edit pairs (mean ± std over items)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gallery_figure(folder: Path, results: dict, path: Path, rows: int = 6) -> None:
    """Input, true edit, then each model's output and TLU map (the references are the input
    and true-edit columns themselves, so they get none of their own)."""
    from PIL import Image

    from textedit.visualize import labelled_grid

    labels = [l for l, m in results["models"].items() if m["source"] not in ("identity", "true-edit")]
    first = folder / "models" / next(iter(results["models"])) / "records.jsonl"
    records = [json.loads(line) for line in first.read_text().splitlines()][:rows]
    has_target = (folder / "images" / f"{records[0]['id']}_target.png").is_file()
    titles = ["input", *(["true edit"] if has_target else [])]
    for label in labels:
        titles += [label, f"{label} TLU"]
    grid, captions = [], []
    for r in records:
        cells = [Image.open(folder / "images" / f"{r['id']}_input.png").convert("RGB")]
        if has_target:
            cells.append(Image.open(folder / "images" / f"{r['id']}_target.png").convert("RGB"))
        for label in labels:
            for sub in ("outputs", "tlu"):
                file = folder / "models" / label / sub / f"{r['id']}.png"
                cells.append(Image.open(file).convert("RGB") if file.is_file() else Image.new("RGB", (8, 8), "white"))
        grid.append(cells)
        captions.append(r["description"])
    labelled_grid(grid, titles, captions, cell=96, caption_width=70).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a textedit eval --out folder")
    parser.add_argument("--out", type=Path, default=Path("docs/assets/evaluation"))
    parser.add_argument("--rows", type=int, default=6)
    args = parser.parse_args()
    results = json.loads((args.folder / "results.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    metrics_figure(results, args.out / "metrics.png")
    gallery_figure(args.folder, results, args.out / "gallery.png", args.rows)
    print(f"wrote {args.out / 'metrics.png'} and {args.out / 'gallery.png'}")


if __name__ == "__main__":
    main()
