"""Training the attribute classifier on a generated data set's training split.

Shape legend: ``n`` images, ``s`` image side.

The images are drawn once (the first ``n_train`` images of the training split of
:class:`~textedit.data.synthetic.SyntheticSpec` ``(family, data_n, data_seed)``), their labels
are their scenes' attribute values, and the held-out accuracy is measured on the first
``n_test`` images of the test split, the images the evaluation edits. Randomness (weights,
batches, flips) follows ``seed``. Command: ``python -m textedit.evaluation train-classifier``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from textedit.data.synthetic.data import SyntheticSpec
from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.render import render
from textedit.errors import InputError
from textedit.evaluation.classifier import AttributeClassifier
from textedit.utils.atomic import atomic_write_text

__all__ = ["render_labelled", "train_classifier", "classifier_accuracy"]


def render_labelled(
    spec, indices: list[int], size: int, progress: Callable[[int], Any] | None = None
) -> tuple[Tensor, dict[str, Tensor]]:
    """``(n, 3, s, s)`` uint8 images of ``indices`` and per slot ``(n,)`` value ids."""
    fam = get_family(spec.family)
    slots = fam.slots()
    images = torch.empty(len(indices), 3, size, size, dtype=torch.uint8)
    labels = {f"{p}.{a}": torch.empty(len(indices), dtype=torch.long) for p, a in slots}
    for row, i in enumerate(indices):
        scene = spec.scene(i)
        images[row] = torch.from_numpy(render(scene, size).image).permute(2, 0, 1)
        for p, a in slots:
            labels[f"{p}.{a}"][row] = fam.part(p).values(a).index(scene.attributes[p][a])
        if progress is not None:
            progress(1)
    return images, labels


def _as_input(images: Tensor) -> Tensor:
    return images.float() / 127.5 - 1.0


@torch.no_grad()
def classifier_accuracy(
    model, images: Tensor, labels: dict[str, Tensor], batch_size: int = 128
) -> dict[str, float]:
    """Held-out accuracy per slot (``"part.attribute"``), per attribute kind and ``"all"``."""
    model.eval()
    correct = {k: 0 for k in labels}
    for start in range(0, images.shape[0], batch_size):
        out = model(_as_input(images[start : start + batch_size]))
        for k, logits in out.logits.items():
            correct[k] += int((logits.argmax(-1) == labels[k][start : start + batch_size]).sum())
    n = images.shape[0]
    acc = {k: v / n for k, v in correct.items()}
    for kind in ("colour", "pattern", "size"):
        keys = [k for k in acc if k.endswith("." + kind)]
        if keys:
            acc[kind] = sum(acc[k] for k in keys) / len(keys)
    acc["all"] = sum(correct.values()) / (n * len(correct))
    return acc


def train_classifier(
    out: str | Path,
    family: str = "birds",
    image_size: int = 64,
    width: int = 24,
    n_train: int = 12000,
    n_test: int = 1000,
    data_n: int = 20000,
    data_seed: int = 0,
    steps: int = 4000,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train an :class:`~textedit.evaluation.classifier.AttributeClassifier` (module doc).

    Writes ``out/model`` (the classifier) and ``out/eval.json`` (held-out accuracies, the
    settings and the wall time). Returns the contents of ``eval.json``.
    """
    from tqdm import tqdm

    out = Path(out)
    for name, value in (("steps", steps), ("batch_size", batch_size), ("n_train", n_train), ("n_test", n_test)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    torch.manual_seed(seed)
    spec = SyntheticSpec(family=family, n=data_n, seed=data_seed)
    train_ids = [i for i in range(spec.n) if spec.split(i) == "train"][:n_train]
    test_ids = [i for i in range(spec.n) if spec.split(i) == "test"][:n_test]
    if not train_ids or not test_ids:
        raise InputError(
            f"a generated set of {data_n} images has {len(train_ids)} training and "
            f"{len(test_ids)} test images; the classifier needs both: raise data_n (--data-n)"
        )
    began = time.time()
    with tqdm(
        total=len(train_ids) + len(test_ids), desc="drawing", unit="img", disable=not progress
    ) as bar:
        train_x, train_y = render_labelled(spec, train_ids, image_size, bar.update)
        test_x, test_y = render_labelled(spec, test_ids, image_size, bar.update)
    model = AttributeClassifier({"family": family, "image_size": image_size, "width": width})
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    g = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with tqdm(total=steps, desc="training", unit="step", disable=not progress) as bar:
        for step in range(steps):
            idx = torch.randint(len(train_ids), (batch_size,), generator=g)
            x = _as_input(train_x[idx])
            flip = torch.rand(batch_size, generator=g) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            logits = model(x).logits
            loss = sum(F.cross_entropy(v, train_y[k][idx]) for k, v in logits.items()) / len(logits)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            losses.append(loss.item())
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    accuracy = classifier_accuracy(model, test_x, test_y)
    model.save_pretrained(out / "model")
    summary = {
        "held_out_accuracy": accuracy,
        "settings": {
            "family": family,
            "image_size": image_size,
            "width": width,
            "n_train": len(train_ids),
            "n_test": len(test_ids),
            "data_n": data_n,
            "data_seed": data_seed,
            "steps": steps,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
        },
        "final_loss": float(np.mean(losses[-50:])),
        "wall_time_s": round(time.time() - began, 1),
    }
    atomic_write_text(out / "eval.json", json.dumps(summary, indent=2) + "\n")
    log(
        f"held-out accuracy ({len(test_ids)} test images): all {accuracy['all']:.3f}, colour "
        f"{accuracy.get('colour', float('nan')):.3f}, pattern "
        f"{accuracy.get('pattern', float('nan')):.3f}, "
        f"size {accuracy.get('size', float('nan')):.3f}; saved {out / 'model'}"
    )
    return summary
