"""Measuring one model on one batch: the per-item metrics and the set metrics' features.

Shape legend: ``b`` batch, ``H`` image side, ``p`` parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from textedit.evaluation import metrics as M
from textedit.evaluation.attributes import ItemTruth, accuracy_metrics, judge, parse_requested

__all__ = ["measure_batch", "set_features", "preservation_masks", "INPUT_RELATIVE"]

#: metrics that compare an output with its input image (and MP, read off Diff): a
#: text-to-image model, whose output does not start from the input, has none of them
INPUT_RELATIVE = ("diff", "id_diff", "l1", "psnr", "ssim", "bg_change", "unmentioned_change", "mp")


def preservation_masks(item: dict[str, Any], part_names: tuple[str, ...]) -> tuple[Tensor, Tensor]:
    """``(1, H, H)`` masks of the background and of the parts the description leaves alone.

    Both exclude the edit mask (the pixels the true edit may change), so the true edit
    changes nothing inside them. Background: neither the input's object nor the true edit's
    parts cover the pixel. Unmentioned parts: pixels of the input whose part the description
    does not name.
    """
    keep = item["edit_mask"] == 0
    target_parts = item["target_part_masks"].sum(0, keepdim=True) > 0
    background = (item["object_mask"] == 0) & ~target_parts & keep
    mentioned = {p for p, _ in parse_requested(item["requested"])}
    rows = [k for k, p in enumerate(part_names) if p not in mentioned]
    if rows:
        unmentioned = (item["part_masks"][rows].sum(0, keepdim=True) > 0) & keep
    else:
        unmentioned = torch.zeros_like(keep)
    return background.float(), unmentioned.float()


def set_features(
    image: Tensor, metrics: list[str], evaluators: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The features set metrics need, of ``(b, 3, H, H)`` images in ``[0, 1]``.

    Keys: ``inception_pool`` ``(b, 2048)``, ``inception_probs`` ``(b, 1008)``,
    ``classifier_features`` ``(b, d)``, ``classifier_probs.<part.attribute>`` ``(b, k)``.
    """
    out: dict[str, np.ndarray] = {}
    if any(m in metrics for m in ("is", "fid", "kid")) and "inception" in evaluators:
        f = evaluators["inception"](image)
        out["inception_pool"] = f.pool.float().cpu().numpy()
        out["inception_probs"] = f.logits.float().softmax(-1).cpu().numpy()
    if any(m in metrics for m in ("cs", "cfd")) and "classifier" in evaluators:
        _, probs, feats = evaluators["classifier"].classify(image * 2 - 1)
        out["classifier_features"] = feats.float().numpy()
        for k, p in probs.items():
            out[f"classifier_probs.{k}"] = p.float().numpy()
    return out


def _scalar(t: Tensor | None, k: int) -> float | None:
    if t is None:
        return None
    v = float(t[k])
    return v if np.isfinite(v) else None


def measure_batch(
    model,
    items: list[dict[str, Any]],
    truths: list,
    metrics: list[str],
    evaluators: dict[str, Any],
    data,
) -> tuple[list[dict], dict[str, np.ndarray], dict[str, Any]]:
    """Run ``model`` on ``items`` and measure it.

    Returns:
        ``(records, features, images)``: one JSON-able record per item (``index``, ``id``,
        ``description``, ``own_caption``, ``metrics``, and for edit pairs ``requested`` and the
        attribute ``verdicts``); the set
        features with an ``index`` row; the quantised ``output``, ``identity`` outputs and
        ``map`` edit maps for saving.
    """
    image = torch.stack([it["image"] for it in items]).float()
    texts = [it["description"] for it in items]
    target = torch.stack([it["target"] for it in items]).float() if data.has_truth else None
    output, edit_map = model.edit(image, texts, target, seeds=[int(it["index"]) for it in items])
    # a text-to-image model's output does not start from the input: nothing that compares
    # the two is measured, and every attribute is read by the classifier
    draws = model.draws
    inp = M.quantize(M.to_unit(image))  # 8-bit pictures, like the outputs
    out = M.quantize(M.to_unit(output))
    values: dict[str, Tensor | None] = {} if draws else {"diff": M.diff(inp, out)}
    if "sim" in metrics:
        values["sim"] = evaluators["damsm"].sim(out * 2 - 1, texts)
    identity = None
    if "id_diff" in metrics and not draws:
        own, _ = model.edit(image, [it["own_caption"] for it in items], image)
        identity = M.quantize(M.to_unit(own))
        values["id_diff"] = M.diff(inp, identity)
    if target is not None and not draws:
        tgt = M.quantize(M.to_unit(target))
        values["l1"], values["psnr"], values["ssim"] = (
            M.diff(tgt, out),
            M.psnr(tgt, out),
            M.ssim(tgt, out),
        )
        masks = [preservation_masks(it, data.part_names) for it in items]
        values["bg_change"] = M.masked_abs_change(inp, out, torch.stack([m[0] for m in masks]))
        values["unmentioned_change"] = M.masked_abs_change(
            inp, out, torch.stack([m[1] for m in masks])
        )

    readings = None
    if "classifier" in evaluators and ({"pattern_acc", "pattern_change_acc"} & set(metrics) or draws):
        readings, _, _ = evaluators["classifier"].classify(out * 2 - 1)
    records = []
    for k, it in enumerate(items):
        row = {
            name: _scalar(v, k) for name, v in values.items() if name in metrics or name == "diff"
        }
        record: dict[str, Any] = {
            "index": it["index"],
            "id": it["id"],
            "description": it["description"],
            "own_caption": it["own_caption"],
        }
        if truths[k] is not None:
            truth = ItemTruth(truths[k].requested, truths[k].changed) if draws else truths[k]
            verdicts = judge(out[k], truth, readings[k] if readings else None)
            acc = accuracy_metrics(verdicts, truths[k].changed, data.part_names)
            row.update({n: v for n, v in acc.items() if n in metrics or n.startswith("acc.")})
            record["verdicts"] = {f"{p}.{a}": v for (p, a), v in verdicts.items()}
            record["requested"] = it["requested"]
        record["metrics"] = row
        records.append(record)
    features = set_features(out, metrics, evaluators)
    if features:
        features["index"] = np.asarray([it["index"] for it in items], dtype=np.int64)
    return (
        records,
        features,
        {
            "output": out * 2 - 1,
            "identity": None if identity is None else identity * 2 - 1,
            "map": edit_map,
        },
    )
