"""The paper's comparison (MIM-Net against ManiGAN, TAGAN and SISGAN, its Table 1) on
generated birds.

    python benchmarks/comparison.py \\
        --model mimnet=mimnet64_birds \\
        --model manigan=runs/manigan64_birds_paired/model \\
        --model tagan=runs/tagan64_birds_paired/model \\
        --model sisgan=runs/sisgan64_birds_paired/model \\
        --damsm runs/damsm_birds64/model --classifier runs/classifier_birds64/model

One ``textedit eval`` run (resumable: run the command again, with more models, and only what
is missing is computed) over the 400 held-out generated pairs, with the references
``identity`` and ``true-edit`` beside the models, then a Markdown table of the paper's
metrics (Diff, and with a DAMSM Sim and MP) and the exact metrics of generated data (edit,
colour, size and, with a classifier, pattern accuracy; change on unmentioned parts and on
the background; L1 to the true edit), written to ``<out>/comparison.md``, with whether the
paper's ranking (by its headline metric MP: MIM-Net > ManiGAN > TAGAN > SISGAN) holds for
each metric, among the models given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

#: metric -> (label, True when higher is better)
METRICS = {
    "edit_acc": ("edit accuracy", True),
    "colour_acc": ("colour accuracy", True),
    "size_acc": ("size accuracy", True),
    "pattern_acc": ("pattern accuracy (classifier)", True),
    "unmentioned_change": ("unmentioned-part change", False),
    "bg_change": ("background change", False),
    "l1": ("L1 to the true edit", False),
    "diff": ("Diff (paper)", None),
    "sim": ("Sim (paper, DAMSM)", True),
    "mp": ("MP (paper)", True),
}
#: the paper's ranking, best first
PAPER_ORDER = ("mimnet", "manigan", "tagan", "sisgan")


def _ranking(values: dict[str, float], higher: bool) -> str:
    present = [m for m in PAPER_ORDER if values.get(m) is not None]
    if len(present) < 2:
        return ""
    order = sorted(present, key=lambda m: values[m], reverse=higher)
    holds = order == [m for m in PAPER_ORDER if m in present]
    return ("holds" if holds else "does not hold") + f" ({' > '.join(order)})"


def table(results: dict) -> str:
    """The comparison table of a ``results.json``."""
    labels = list(results["models"])
    head = "| metric | " + " | ".join(labels) + " | paper's ranking |"
    rows = [head, "| --- |" + " ---: |" * len(labels) + " --- |"]
    for key, (name, higher) in METRICS.items():
        values = {}
        for label in labels:
            entry = results["models"][label]["results"].get(key)
            values[label] = None if entry is None else entry["mean"]
        if all(v is None for v in values.values()):
            continue
        cells = ["—" if v is None else f"{v:.3f}" for v in values.values()]
        verdict = "" if higher is None else _ranking(values, higher)
        arrow = "" if higher is None else (" ↑" if higher else " ↓")
        rows.append(f"| {name}{arrow} | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="LABEL=SOURCE; repeat (labels mimnet, manigan, tagan, sisgan rank)")
    p.add_argument("--damsm", help="a DAMSM folder (adds Sim and MP)")
    p.add_argument("--classifier", help="an attribute classifier folder (adds pattern accuracy)")
    p.add_argument("--limit", type=int, default=400, help="held-out generated pairs (default 400)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--out", default="runs/comparison", help="output folder (default runs/comparison)")
    args = p.parse_args(argv)
    out = Path(args.out)
    cmd = ["textedit", "eval", "--model=identity", "--model=true-edit", *[f"--model={m}" for m in args.model],
           "--data", "synthetic:birds", "--limit", str(args.limit), "--out", str(out),
           "--threads", str(args.threads), "--no-progress"]
    if args.damsm:
        cmd += ["--damsm", args.damsm]
    if args.classifier:
        cmd += ["--classifier", args.classifier]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    text = table(json.loads((out / "results.json").read_text(encoding="utf-8")))
    (out / "comparison.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
