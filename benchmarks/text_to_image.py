"""Text to image on generated birds: AttnGAN, StackGAN++ and GAN-INT-CLS side by side.

    python benchmarks/text_to_image.py \\
        --model attngan=runs/attngan64_birds/model \\
        --model stackgan=runs/stackgan64_birds/model \\
        --model gan_int_cls=runs/gan_int_cls64_birds/model \\
        --classifier runs/classifier_birds64/model [--damsm runs/damsm_birds64/model]

One ``textedit eval`` run (resumable) over the first ``--limit`` held-out generated items:
each model draws each item's description from seed ``index``, and the attribute classifier
reads every attribute the description asks for (attribute accuracy, and per kind: colour,
size, pattern), with the classifier's set metrics (CS, CFD against the real images) and,
with a DAMSM, Sim. Then a **control** that says how much of that accuracy comes from the
text: the same drawn images scored against the *next* item's description (descriptions
shuffled by one), i.e. what a model that ignored the text would score. And how much the
drawn images vary: the per-pixel standard deviation (images in ``[-1, 1]``) across 8 seeds for
one description (the noise's effect), and across the first 32 descriptions for one seed (the
text's), each averaged. The table goes to ``<out>/text_to_image.md``; ``--grid FILE`` also
draws a sample sheet: the first six descriptions, two seeds per model.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from textedit.cli import main as textedit_main
from textedit.editing.text import EditWarning

#: metric -> label, as ``textedit eval`` names them
METRICS = {
    "attr_acc": "attribute accuracy ↑ (classifier)",
    "colour_acc": "colour accuracy ↑",
    "size_acc": "size accuracy ↑",
    "pattern_acc": "pattern accuracy ↑",
    "cs": "CS ↑ (classifier score)",
    "cfd": "CFD ↓ (to the real images)",
    "sim": "Sim ↑ (DAMSM)",
}


def _requested(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(";") if pair)


def shuffled_control(folder: Path, classifier, n: int) -> dict[str, float]:
    """Attribute accuracy of ``folder``'s drawn images against their own descriptions and
    against the next item's (the control), read by ``classifier`` from the saved PNGs."""
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    records = sorted((r for r in records if r["index"] < n), key=lambda r: r["index"])
    images = [np.asarray(Image.open(folder / "outputs" / f"{r['id']}.png").convert("RGB")) for r in records]
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1
    readings = []
    for start in range(0, len(batch), 64):
        readings += classifier.classify(batch[start : start + 64])[0]

    def accuracy(shift: int) -> float:  # per item the share of its attributes shown, as the runner
        shares = []
        for k, reading in enumerate(readings):
            asked = _requested(records[(k + shift) % len(records)]["requested"])
            shares.append(np.mean([reading.get(tuple(key.split(".", 1))) == value for key, value in asked.items()]))
        return float(np.mean(shares))

    return {"own": accuracy(0), "shuffled": accuracy(1)}


def variation(model, texts: list[str], seeds: int = 8) -> dict[str, float]:
    """Mean per-pixel std of ``model``'s images across ``seeds`` seeds per description, and
    across ``texts`` at one seed (the descriptions' notes were counted by the evaluation)."""
    warnings.simplefilter("ignore", EditWarning)
    over_seeds = [model.generate(text, num_images=seeds, seed=0).fine.std(0).mean().item() for text in texts[:4]]
    over_texts = model.generate(texts, seed=[0] * len(texts)).fine.std(0).mean().item()
    return {"seeds": float(np.mean(over_seeds)), "texts": over_texts}


def sample_grid(models: dict, texts: list[str], path: Path, seeds: int = 2) -> None:
    """Per description (a row), ``seeds`` images from each model (seeds 0, 1, ...)."""
    from textedit.utils.atomic import atomic_save
    from textedit.visualize import labelled_grid, to_pil

    warnings.simplefilter("ignore", EditWarning)
    drawn = {label: m.generate(texts, num_images=seeds, seed=0).fine for label, m in models.items()}
    rows = [[to_pil(drawn[label][i * seeds + k]) for label in models for k in range(seeds)] for i in range(len(texts))]
    titles = [f"{label} {k}" for label in models for k in range(seeds)]
    grid = labelled_grid(rows, titles, [f"“{t}”" for t in texts], cell=80)
    atomic_save(path, lambda tmp: grid.save(tmp, format="PNG"))


def table(results: dict, controls: dict[str, dict[str, float]], spreads: dict[str, dict[str, float]]) -> str:
    labels = list(results["models"])
    rows = ["| metric | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    for key, name in METRICS.items():
        values = [results["models"][m]["results"].get(key) for m in labels]
        if all(v is None or v.get("mean") is None for v in values):
            continue
        cells = ["—" if v is None or v.get("mean") is None else f"{v['mean']:.3f}" for v in values]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append(
        "| attribute accuracy, descriptions shuffled (control) | "
        + " | ".join(f"{controls[m]['shuffled']:.3f}" for m in labels)
        + " |"
    )
    for key, name in (("seeds", "variation across seeds (per-pixel std)"), ("texts", "variation across descriptions (per-pixel std)")):
        rows.append(f"| {name} | " + " | ".join(f"{spreads[m][key]:.3f}" for m in labels) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, help="LABEL=SOURCE of a text-to-image model; repeat")
    p.add_argument("--classifier", required=True, help="an attribute classifier folder (reads the drawn attributes)")
    p.add_argument("--damsm", help="a DAMSM folder (adds Sim)")
    p.add_argument("--limit", type=int, default=400, help="held-out generated items (default 400)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--out", default="runs/text_to_image", help="output folder (default runs/text_to_image)")
    p.add_argument("--grid", metavar="FILE", help="also write a sample sheet (PNG) here")
    args = p.parse_args(argv)
    if not all("=" in m for m in args.model):
        p.error("--model takes LABEL=SOURCE")
    sources = dict(m.split("=", 1) for m in args.model)
    out = Path(args.out)
    cmd = ["textedit", "eval", *[f"--model={m}" for m in args.model], "--data", "synthetic:birds",
           "--limit", str(args.limit), "--out", str(out), "--classifier", args.classifier,
           "--threads", str(args.threads), "--no-progress"]
    if args.damsm:
        cmd += ["--damsm", args.damsm]
    print("$", " ".join(cmd), flush=True)
    if code := textedit_main(cmd[1:]):  # the command above, in this process
        raise SystemExit(f"textedit eval failed with exit status {code}")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))

    from textedit.evaluation.classifier import AttributeClassifier

    classifier = AttributeClassifier.from_pretrained(args.classifier)
    controls = {label: shuffled_control(out / "models" / label, classifier, results["n"]) for label in results["models"]}
    for label, control in controls.items():  # the PNGs re-read give the runner's accuracy back
        own = results["models"][label]["results"]["attr_acc"]["mean"]
        if abs(control["own"] - own) > 1e-6:
            raise SystemExit(f"{label}: re-reading the saved images gives {control['own']:.4f}, the run {own:.4f}")
    import textedit

    torch.set_num_threads(args.threads)
    first = out / "models" / next(iter(results["models"])) / "records.jsonl"
    texts = [json.loads(line)["description"] for line in first.read_text(encoding="utf-8").splitlines()[:32]]
    models = {label: textedit.load(source) for label, source in sources.items()}
    spreads = {label: variation(model, texts) for label, model in models.items()}
    if args.grid:
        sample_grid(models, texts[:6], Path(args.grid))
    text = table(results, controls, spreads)
    (out / "text_to_image.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
