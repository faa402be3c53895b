"""Bundle a finished ``textedit train`` run as a model that ships inside the package.

    python scripts/bundle_model.py runs/mimnet64_birds            # -> src/textedit/pretrained/

Reads RUN_DIR (``model/`` written by save_pretrained, ``config.yaml``, ``metrics.jsonl``),
writes ``<dest>/<name>/`` with the weights stored in float16, checks that the folder fits
the size budget (25 MB) and that the float16 model edits like the float32 one, then adds
or replaces the model's entry in ``<dest>/bundled.json`` (name, description, recipe,
command, steps, wall time and images/s from ``metrics.jsonl``, versions, file hashes, and
an ``evaluation`` field for the evaluation summary). Each of the two is replaced
atomically: a failed check leaves the previous bundle as it was.

    python scripts/bundle_model.py --evaluation runs/eval_birds64 --label bundled

fills the bundled model's ``evaluation`` field from a ``textedit eval`` output folder: the
data, the evaluators (path and digest), and the mean and std of every metric of the column
``--label`` (which must be the bundled model: its weights' fingerprint is checked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = ROOT / "src" / "textedit" / "pretrained"
DEFAULT_NAME = "mimnet64_birds"
#: the budget of a bundled model (the package must stay small)
MAX_MB = 25.0
#: largest mean |float16 edit - float32 edit| accepted, in [-1, 1] units
MAX_FP16_DRIFT = 0.02


class BundleError(Exception):
    """The run cannot be bundled; the message says why and what to do."""


def read_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run's config and metric records, checking the run folder is complete."""
    from textedit.config.io import read_config_file

    if not run_dir.is_dir():
        raise BundleError(f"{run_dir} is not a folder; pass the run folder of `textedit train`")
    missing = [
        n
        for n in ("model/model_index.json", "config.yaml", "metrics.jsonl")
        if not (run_dir / n).is_file()
    ]
    if missing:
        raise BundleError(
            f"{run_dir} is not a finished training run: it lacks {', '.join(missing)} (the model "
            f"folder is written at the end of training; resume an unfinished run with "
            f"`textedit train --resume {run_dir}`)"
        )
    config = read_config_file(run_dir / "config.yaml")
    records = []
    for number, line in enumerate(
        (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines(), 1
    ):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BundleError(
                    f"{run_dir / 'metrics.jsonl'} line {number} is not JSON ({exc})"
                ) from None
    if not records:
        raise BundleError(f"{run_dir / 'metrics.jsonl'} holds no records")
    return config, records


def timing(records: list[dict[str, Any]], batch_size: int) -> dict[str, Any]:
    """Steps, training wall time and throughput from the metric records.

    The wall time adds up the logging windows (``log_every`` steps of ``batch_size`` images
    at the logged ``images_per_s``), so it counts training time only, not the gaps between
    an interrupted run and its resumption; the span between the first and last record is
    given too.
    """
    seconds, previous = 0.0, 0
    for record in sorted(records, key=lambda r: r["step"]):
        rate = record.get("images_per_s")
        if isinstance(rate, (int, float)) and rate > 0 and math.isfinite(rate):
            seconds += (record["step"] - previous) * batch_size / rate
        previous = record["step"]
    steps = max(r["step"] for r in records)
    times = [r["time"] for r in records if isinstance(r.get("time"), (int, float))]
    out: dict[str, Any] = {
        "steps": steps,
        "images_seen": steps * batch_size,
        "wall_time_s": round(seconds, 1),
        "wall_time": f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min",
        "images_per_s": round(steps * batch_size / seconds, 2) if seconds > 0 else None,
    }
    if times:
        out["trained_until"] = dt.datetime.fromtimestamp(max(times), dt.timezone.utc).isoformat(
            timespec="seconds"
        )
        out["log_span_s"] = round(max(times) - min(times), 1)
    return out


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def recipe_of(config: dict[str, Any], recipe: str) -> tuple[dict[str, Any], str]:
    """How the run's config differs from the shipped recipe, and the command that trains it."""
    from textedit.config.io import read_config_file
    from textedit.training.config import TrainConfig, find_config

    shipped = TrainConfig.model_validate(read_config_file(find_config(recipe))).model_dump(
        mode="json"
    )
    ran = TrainConfig.model_validate(config).model_dump(mode="json")
    a, b = _flatten(shipped), _flatten(ran)
    ignored = {"output_dir"}
    overrides = {
        k: b.get(k) for k in sorted(set(a) | set(b)) if k not in ignored and a.get(k) != b.get(k)
    }
    words = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in overrides.items()]
    return overrides, " ".join(["textedit train --config", recipe, *words])


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fp16_drift(model: Any, bundled: Path) -> float:
    """Mean |edit of the float16-stored model - edit of the float32 model| on generated birds."""
    import numpy as np
    import torch

    import textedit
    from textedit.data.synthetic import render, sample_scene

    size = model.image_size
    pictures = [
        render(sample_scene("birds", np.random.default_rng(seed)), size).image for seed in range(4)
    ]
    images = torch.stack(
        [torch.from_numpy(p).permute(2, 0, 1).float() / 127.5 - 1 for p in pictures]
    )
    texts = ["this bird has a red head and white wings"] * len(pictures)
    reloaded = textedit.load_composition(bundled)
    a = model.edit(images, texts, allow_unknown=True).fine
    b = reloaded.edit(images, texts, allow_unknown=True).fine
    return float((a - b).abs().mean())


def bundle(
    run_dir: Path,
    name: str = DEFAULT_NAME,
    dest: Path = DEFAULT_DEST,
    recipe: str | None = None,
    description: str | None = None,
    max_mb: float = MAX_MB,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Bundle ``run_dir`` as ``dest/name`` and return its ``bundled.json`` entry."""
    import torch

    import textedit
    from textedit.utils.atomic import atomic_directory

    config, records = read_run(run_dir)
    target = dest / name
    if target.exists() and not overwrite:
        raise BundleError(f"{target} exists; pass --overwrite to replace the bundled model")
    model = textedit.load_composition(run_dir / "model").eval()
    overrides, command = recipe_of(config, recipe or name)
    batch_size = int(config.get("batch_size", 16))
    files: dict[str, str] = {}
    with atomic_directory(target, overwrite=True) as tmp:
        model.save_pretrained(tmp, dtype=torch.float16)
        for path in tmp.rglob("*"):
            if path.is_file():
                os.chmod(path, 0o644)  # readable by every user of an installed package
                files[path.relative_to(tmp).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
        size = folder_size(tmp)
        if size > max_mb * 1e6:
            raise BundleError(
                f"the float16 model takes {size / 1e6:.1f} MB, more than the budget of "
                f"{max_mb:g} MB; "
                f"bundle a smaller preset (nothing was written)"
            )
        drift = fp16_drift(model, tmp)
        if drift > MAX_FP16_DRIFT:
            raise BundleError(
                f"stored in float16 the model edits differently (mean |difference| {drift:.4f} > "
                f"{MAX_FP16_DRIFT}); keep float32 or check the run (nothing was written)"
            )
    index = json.loads((target / "model_index.json").read_text(encoding="utf-8"))
    train_model = config.get("model", {})
    entry = {
        "name": name,
        "description": description
        or f"{train_model.get('type', 'model')} trained by the recipe {recipe or name} "
        f"({int(model.image_size)} px; weights stored in float16)",
        "model": train_model.get("type"),
        "image_size": int(model.image_size),
        "recipe": recipe or name,
        "recipe_overrides": overrides,
        "command": command,
        "batch_size": batch_size,
        **timing(records, batch_size),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "storage_dtype": "float16",
        "size_mb": round(size / 1e6, 2),
        "fp16_mean_abs_diff": round(drift, 6),
        "textedit_version": index.get("_textedit", {}).get("textedit_version"),
        "schema_version": index.get("_textedit", {}).get("schema_version"),
        "bundled_with": textedit.__version__,
        "bundled_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        "evaluation": None,
    }
    catalogue_path = dest / "bundled.json"
    catalogue = (
        json.loads(catalogue_path.read_text(encoding="utf-8")) if catalogue_path.is_file() else {}
    )
    catalogue[name] = entry
    _write_catalogue(catalogue_path, catalogue)
    return entry


def _write_catalogue(path: Path, catalogue: dict[str, Any]) -> None:
    """``bundled.json``, atomically, sorted by name, readable by every user."""
    from textedit.utils.atomic import atomic_write_text

    text = json.dumps(dict(sorted(catalogue.items())), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)
    os.chmod(path, 0o644)


def attach_evaluation(
    eval_dir: Path, label: str, name: str = DEFAULT_NAME, dest: Path = DEFAULT_DEST
) -> dict[str, Any]:
    """Write the ``label`` column of ``eval_dir/results.json`` into ``name``'s ``evaluation``."""
    results = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
    column = results["models"].get(label)
    if column is None:
        raise BundleError(f"{eval_dir} has no column {label!r}; columns: {', '.join(results['models'])}")
    evaluated = Path(column["fingerprint"].get("path", "")).resolve()
    if evaluated != (dest / name).resolve():
        raise BundleError(
            f"column {label!r} evaluated {column['source']}, not the bundled model {dest / name}"
        )
    catalogue_path = dest / "bundled.json"
    catalogue = json.loads(catalogue_path.read_text(encoding="utf-8"))
    if name not in catalogue:
        raise BundleError(f"{catalogue_path} has no model {name!r}; bundle it first")
    summary = {
        "data": results["config"]["data"]["name"],
        "items": results["n"],
        "evaluators": results["config"]["evaluators"],
        "model_fingerprint": column["fingerprint"],
        "metrics": {
            k: {s: round(v, 4) for s, v in r.items() if s in ("mean", "std") and v is not None}
            for k, r in column["results"].items()
        },
        "not_computed": sorted(results.get("skipped", {})),
    }
    catalogue[name]["evaluation"] = summary
    _write_catalogue(catalogue_path, catalogue)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2]
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", nargs="?",
        help="a finished `textedit train` run folder",
    )
    parser.add_argument(
        "--evaluation", type=Path, metavar="EVAL_DIR",
        help="instead of bundling: fill the evaluation field from a `textedit eval` folder",
    )
    parser.add_argument("--label", default="bundled", help="the bundled model's column in EVAL_DIR")
    parser.add_argument(
        "--name", default=DEFAULT_NAME, help=f"bundled model name (default {DEFAULT_NAME})"
    )
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help="pretrained folder (default: the package's)"
    )
    parser.add_argument(
        "--recipe", help="shipped training config it was trained with (default: the name)"
    )
    parser.add_argument("--description", help="one-line description for bundled.json")
    parser.add_argument(
        "--max-mb", type=float, default=MAX_MB, help=f"size budget (default {MAX_MB:g} MB)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing bundled model"
    )
    args = parser.parse_args(argv)
    from textedit.errors import TextEditError

    if args.evaluation is not None:
        try:
            summary = attach_evaluation(args.evaluation, args.label, args.name, args.dest)
        except (BundleError, KeyError, OSError, ValueError) as exc:
            print(f"bundle_model: error: {exc}", file=sys.stderr)
            return 1
        print(f"evaluation of {args.name} on {summary['data']} ({summary['items']} items) written")
        return 0
    if args.run_dir is None:
        parser.error("give RUN_DIR (or --evaluation EVAL_DIR)")
    try:
        entry = bundle(
            args.run_dir,
            args.name,
            args.dest,
            args.recipe,
            args.description,
            args.max_mb,
            args.overwrite,
        )
    except (BundleError, TextEditError) as exc:
        print(f"bundle_model: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"bundled {args.run_dir} as {args.dest / args.name} ({entry['size_mb']} MB, "
        f"{entry['steps']} steps, "
        f"{entry['wall_time']}); entry written to {args.dest / 'bundled.json'}"
    )
    if entry["recipe_overrides"]:
        print(
            f"note: the run differs from the recipe {entry['recipe']}: {entry['recipe_overrides']}"
        )
    print(f"then: python scripts/bundle_model.py --evaluation EVAL_DIR (a textedit eval with --model bundled={args.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
