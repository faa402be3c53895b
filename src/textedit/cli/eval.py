"""``textedit eval``: the paper's metrics and the exact ones, for models side by side.

``textedit eval --model M [--model M2 ...] --data D [--out DIR] [--limit N] [--damsm DIR]
[--classifier DIR] [--inception-weights FILE] [--metrics auto|LIST]``; see ``docs/evaluation.md``.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate models: IS/FID/Sim/Diff/MP and exact metrics against true edits, with "
        "reports",
        description="Run the chosen metrics over a split with a fixed seed, for one or more models "
        "side by "
        "side (saved models, bundled names, or the references `identity` and `true-edit`). Prints "
        "a table "
        "(mean ± std) and writes results.json/.csv/.md and an HTML gallery into --out. Resumable: "
        "run the "
        "same command again (with more models, or a larger --limit) and only what is missing is "
        "computed.",
    )
    p.add_argument(
        "--model",
        action="append",
        required=False,
        default=[],
        metavar="[LABEL=]SOURCE",
        help="a model folder (save_pretrained or a `textedit train` run), a bundled model name, "
        "`identity` or `true-edit`; repeat for more columns",
    )
    p.add_argument(
        "--data",
        help="synthetic:<family> (held-out generated pairs), a folder from `textedit data "
        "generate`, or a captioned data set folder (mismatched captions, no ground truth)",
    )
    p.add_argument("--split", default="test", help="split to evaluate (default test)")
    p.add_argument("--limit", type=int, help="evaluate the first N items only")
    p.add_argument(
        "--data-n",
        type=int,
        help="synthetic: images in the generated data set (default 20000, as the training recipes)",
    )
    p.add_argument(
        "--data-seed", type=int, help="synthetic: seed of the generated data set (default 0)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the mismatched captions and of torch (default 0)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="items per batch (default 16; the numbers do not depend on it beyond float rounding)",
    )
    p.add_argument(
        "--metrics",
        default="auto",
        help="auto (all whose evaluators are given), or a comma list of "
        "metrics and groups: paper, generated, exact, identity, all; e.g. diff,sim,mp",
    )
    p.add_argument(
        "--damsm",
        metavar="DIR",
        help="a DAMSM trained with `textedit train-damsm` (enables Sim, MP)",
    )
    p.add_argument(
        "--classifier",
        metavar="DIR",
        help="an attribute classifier (enables CS, CFD, pattern accuracy)",
    )
    p.add_argument(
        "--inception-weights",
        metavar="FILE",
        help="pt_inception-2015-12-05-6726825d.pth (enables IS, FID, KID)",
    )
    p.add_argument(
        "--download-inception",
        action="store_true",
        help="download the Inception weights when not found locally",
    )
    p.add_argument(
        "--image-size",
        type=int,
        help="size for the references when no model fixes one (default: the first model's, else "
        "64)",
    )
    p.add_argument("--out", default="runs/eval", help="output folder (default runs/eval)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="discard results in --out made with other settings or weights",
    )
    p.add_argument("--gallery", type=int, default=12, help="items shown in index.html (default 12)")
    p.add_argument(
        "--no-save-outputs",
        action="store_true",
        help="save only the gallery's outputs as PNG (others are then not re-checkable)",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the reports from the files in --out without running anything",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from textedit.errors import InputError

    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.report_only:
        return _report_only(Path(args.out), args.model)
    if not args.model or not args.data:
        raise InputError(
            "give --model (one or more) and --data; e.g. textedit eval --model identity "
            "--model true-edit --data synthetic:birds --limit 100"
        )
    from textedit.evaluation.evaluate import EvalSettings, Evaluation
    from textedit.evaluation.models import resolve_model
    from textedit.evaluation.report import format_table

    settings = EvalSettings(
        data=args.data,
        split=args.split,
        limit=args.limit,
        data_n=args.data_n,
        data_seed=args.data_seed,
        seed=args.seed,
        batch_size=args.batch_size,
        metrics=args.metrics,
        damsm=args.damsm,
        classifier=args.classifier,
        inception_weights=args.inception_weights,
        download_inception=args.download_inception,
        image_size=args.image_size,
        gallery=args.gallery,
        save_outputs=not args.no_save_outputs,
    )
    models = [resolve_model(m) for m in args.model]
    evaluation = Evaluation(
        settings, models, args.out, progress=not args.no_progress, overwrite=args.overwrite
    )
    results = evaluation.run()
    print(f"{results['config']['data']['name']}: {results['n']} items")
    print(format_table(results))
    skipped = {k: v for k, v in results["skipped"].items() if v != "not asked for"}
    if skipped:
        reasons: dict[str, list[str]] = {}
        for k, v in skipped.items():
            reasons.setdefault(v, []).append(k)
        for why, names in reasons.items():
            print(f"not computed: {', '.join(names)} ({why})")
    for model in models:
        for kind, described in getattr(model, "warnings", {}).items():
            print(f"note: {model.label}: {len(described)} description(s) read in this run had {kind} (see docs/evaluation.md)")
    print(f"reports: {Path(args.out) / 'results.md'}, results.json, results.csv, index.html")
    return 0


def _report_only(out, specs: list[str]) -> int:
    from textedit.errors import InputError
    from textedit.evaluation._io import read_records, read_state
    from textedit.evaluation.aggregate import aggregate
    from textedit.evaluation.models import split_model_spec
    from textedit.evaluation.report import format_table, write_reports

    path = out / "eval_config.json"
    if not path.is_file():
        raise InputError(
            f"{out} holds no evaluation (no eval_config.json); run textedit eval first"
        )
    config = read_state(path)
    held = [m["label"] for m in config.get("models", [])]
    labels = [split_model_spec(s)[0] for s in specs] or held
    unknown = [label for label in labels if not (out / "models" / label / "model.json").is_file()]
    if unknown:
        raise InputError(f"{out} holds no results of {', '.join(unknown)}; it holds {', '.join(held) or 'none'}")
    results_json = out / "results.json"
    previous = read_state(results_json, remedy="delete it to report from the records alone") if results_json.is_file() else {}
    n = previous.get("n")
    if n is None:  # the items every model has records of, from the first on
        n = min(_leading(read_records(out / "models" / label / "records.jsonl")[0]) for label in labels)
        if n == 0:
            raise InputError(f"{out} holds no items that every model has records of; run textedit eval")
        print(f"no results.json: reporting the first {n} items, which every model has records of")
    results = aggregate(out, labels, n, config["metrics"], previous.get("skipped"))
    write_reports(out, results)
    print(format_table(results))
    return 0


def _leading(records: dict[int, object]) -> int:
    """How many items from item 0 on have a record."""
    n = 0
    while n in records:
        n += 1
    return n
