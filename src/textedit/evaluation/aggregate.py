"""From the saved files of an evaluation to its results: the only place numbers are summed up.

Everything here reads the output folder (``records.jsonl``, ``features/*.npz``,
``eval_config.json``), so ``textedit eval --report-only OUT`` rebuilds every table from the
files alone, and a reader can check any number against them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textedit.errors import InputError
from textedit.evaluation._io import read_records, read_state
from textedit.evaluation.classifier import classifier_score
from textedit.evaluation.inception import frechet_distance, kernel_distance
from textedit.evaluation.metrics import (
    inception_score,
    manipulative_precision,
    mean_std,
    metric_info,
)

__all__ = ["aggregate", "load_features"]


def load_features(folder: Path, n: int) -> dict[str, np.ndarray]:
    """The features saved under ``folder`` for items ``0 .. n-1``, in item order.

    Raises:
        InputError: some items have no saved features (the run was not finished), or a
            features file is damaged.
    """
    rows: dict[str, dict[int, np.ndarray]] = {}
    for path in sorted(folder.glob("*.npz")):
        try:
            with np.load(path) as z:
                index = z["index"]
                for key in z.files:
                    if key != "index":
                        for r, i in enumerate(index):
                            if i < n:
                                rows.setdefault(key, {})[int(i)] = z[key][r]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(
                f"{path} is damaged ({exc}); delete {path.parent.parent} and run the evaluation "
                "again to compute it again"
            ) from None
    out = {}
    for key, by_index in rows.items():
        missing = [i for i in range(n) if i not in by_index]
        if missing:
            raise InputError(
                f"{folder} lacks the {key} of {len(missing)} items (first: {missing[0]}); run the "
                "evaluation again to finish it"
            )
        out[key] = np.stack([by_index[i] for i in range(n)])
    return out


def _set_metrics(
    model_dir: Path, reference_dir: Path, n: int, metrics: list[str]
) -> dict[str, dict[str, float]]:
    wanted = [m for m in metrics if not metric_info(m).per_item and m != "mp"]
    if not wanted:
        return {}
    mine = load_features(model_dir / "features", n)
    ref = load_features(reference_dir / "features", n) if reference_dir.is_dir() else {}
    out: dict[str, dict[str, float]] = {}
    if "is" in wanted and "inception_probs" in mine:
        mean, std = inception_score(torch.from_numpy(mine["inception_probs"]))
        out["is"] = {"mean": mean, "std": std, "n": n}
    if n >= 2 and "inception_pool" in mine and "inception_pool" in ref:
        a, b = torch.from_numpy(ref["inception_pool"]), torch.from_numpy(mine["inception_pool"])
        if "fid" in wanted:
            out["fid"] = {"mean": frechet_distance(a, b), "std": None, "n": n}
        if "kid" in wanted:
            torch.manual_seed(0)
            mean, std = kernel_distance(a, b)
            out["kid"] = {"mean": mean, "std": std, "n": n}
    probs = {
        k.split(".", 1)[1]: torch.from_numpy(v)
        for k, v in mine.items()
        if k.startswith("classifier_probs.")
    }
    if "cs" in wanted and probs:
        mean, std = classifier_score(probs)
        out["cs"] = {"mean": mean, "std": std, "n": n}
    if (
        "cfd" in wanted
        and n >= 2
        and "classifier_features" in mine
        and "classifier_features" in ref
    ):
        value = frechet_distance(
            torch.from_numpy(ref["classifier_features"]),
            torch.from_numpy(mine["classifier_features"]),
        )
        out["cfd"] = {"mean": value, "std": None, "n": n}
    return out


def aggregate(
    out: str | Path,
    labels: list[str],
    n: int,
    metrics: list[str],
    skipped: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The results of the models ``labels`` over items ``0 .. n-1`` of the evaluation in ``out``.

    Returns:
        ``{"config", "n", "metrics": [names], "skipped", "info": {name: MetricInfo fields},
        "models": {label: {"source", "image_size", "fingerprint", "results": {name: {"mean",
        "std", "n"}}, "verdicts": {"part.attribute": share shown}}}}``.
    """
    out = Path(out)
    config = read_state(out / "eval_config.json")
    models: dict[str, Any] = {}
    names = list(metrics)
    for label in labels:
        folder = out / "models" / label
        info = read_state(folder / "model.json")
        records = {i: r for i, r in read_records(folder / "records.jsonl")[0].items() if i < n}
        if len(records) < n:
            raise InputError(
                f"{folder} has records of {len(records)} of {n} items; run the evaluation again to "
                "finish it"
            )
        rows = [records[i] for i in range(n)]
        results: dict[str, Any] = {}
        keys = list(dict.fromkeys(k for r in rows for k in r["metrics"]))
        for key in keys:
            mean, std, count = mean_std(r["metrics"].get(key) for r in rows)
            results[key] = {"mean": mean, "std": std, "n": count}
            if key.startswith("acc.") and key not in names:
                names.append(key)
        if "mp" in metrics and "sim" in results and "diff" in results:
            mp = manipulative_precision(results["diff"]["mean"], results["sim"]["mean"])
            results["mp"] = {"mean": mp, "std": None, "n": results["sim"]["n"]}
        results.update(
            _set_metrics(folder, out / "reference" / str(info["image_size"]), n, metrics)
        )
        verdicts: dict[str, list[bool]] = {}
        for r in rows:
            for k, v in (r.get("verdicts") or {}).items():
                if v is not None:
                    verdicts.setdefault(k, []).append(bool(v))
        models[label] = {
            "source": info["source"],
            "image_size": info["image_size"],
            "fingerprint": info["fingerprint"],
            "results": results,
            "verdicts": {
                k: {"shown": sum(v) / len(v), "n": len(v)} for k, v in sorted(verdicts.items())
            },
        }
    shown = [m for m in names if any(m in models[l]["results"] for l in labels)]
    skipped = dict(skipped or {})
    for m in metrics:  # asked for, and no column has it: say why rather than leave it out
        if m not in shown and m not in skipped:
            skipped[m] = "needs at least 2 items" if m in ("fid", "kid", "cfd") and n < 2 else "computed for none of these models"
    return {
        "config": config,
        "n": n,
        "metrics": shown,
        "skipped": skipped,
        "info": {m: vars(metric_info(m)) for m in shown},
        "models": models,
    }
