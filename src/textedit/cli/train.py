"""``textedit train``: train a model by its recipe from a YAML config, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a model by its recipe (MIM-Net, TAGAN, SISGAN, ...) from a YAML config",
        description="Train from a shipped config (by name) or a config file, with key=value "
        "overrides, e.g. `textedit train --config mimnet64_birds_paired steps=2000 "
        "data.num_workers=2` or `--config my.yaml`. Checkpoints are written atomically; "
        "Ctrl-C stops at the end of the current step with a checkpoint; --resume continues a "
        "run exactly. Under torchrun, processes share the global batch.",
    )
    p.add_argument(
        "--config",
        help="YAML or JSON training config, or the name of a shipped one (mimnet64_birds, "
        "mimnet64_birds_paired, mimnet256_cub, ...; an unknown name lists them all)",
    )
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--out", help="run folder (overrides output_dir)")
    p.add_argument("--max-steps", type=_positive, help="stop after this many more steps (the run stays resumable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides, e.g. batch_size=8 (anywhere on the line); steps=N replaces a "
        "config's epochs and epochs=N its steps",
    )
    p.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of steps, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:

    from textedit.config.base import validate_config
    from textedit.config.io import apply_overrides, read_config_file
    from textedit.errors import TextEditError
    from textedit.training.config import TrainConfig, find_config
    from textedit.training.trainer import Trainer, TrainingInterrupted, plugin_hint

    if args.resume and args.out:
        raise TextEditError(
            f"--resume continues the run in its own folder ({args.resume}); leave out --out "
            f"(to branch off a run, copy its folder and resume the copy)"
        )
    if args.resume and args.config:
        raise TextEditError(
            f"--resume continues the run with its own config.yaml ({args.resume}); leave out "
            f"--config, and change fields with key=value overrides"
        )
    if args.resume:
        run_dir = Path(args.resume)
        saved = run_dir / "config.yaml"
        if not run_dir.is_dir():
            raise TextEditError(f"{run_dir} does not exist; --resume takes the folder of a training run (its output_dir)")
        if not saved.is_file():
            raise TextEditError(f"{run_dir} is not a training run: it has no config.yaml")
        data = read_config_file(saved)
        data["output_dir"] = str(run_dir)
    elif args.config:
        data = read_config_file(find_config(args.config))
    else:
        raise TextEditError("give --config FILE to start a run, or --resume RUN_DIR to continue one")
    data = apply_overrides(data, args.overrides)
    given = {o.partition("=")[0].strip() for o in args.overrides}
    if args.resume and "output_dir" in given:
        raise TextEditError(
            f"--resume continues the run in its own folder ({args.resume}); leave out the "
            f"output_dir override (to branch off a run, copy its folder and resume the copy)"
        )
    for length, other in (("steps", "epochs"), ("epochs", "steps")):  # a run has one length
        if length in given and other not in given and data.get(length) is not None:
            data[other] = None
    if args.out:
        data["output_dir"] = args.out
    try:
        config = validate_config(TrainConfig, data, source=args.config or args.resume)
        if not args.no_progress:  # generating a data set's descriptions takes a while
            print(f"preparing the data ({config.data.type}) and the model ...", file=sys.stderr, flush=True)
        trainer = Trainer(config, resume=bool(args.resume), progress=not args.no_progress)
    except TextEditError as exc:  # a plug-in the run was started with may be missing
        hint = plugin_hint(args.resume) if args.resume else ""
        if not hint:
            raise
        raise TextEditError(f"{exc}{hint}") from exc
    out = Path(config.output_dir)
    started = trainer.step
    try:
        exported = trainer.train(max_steps=args.max_steps)
    except TrainingInterrupted as stop:
        if stop.checkpointed:
            print(
                f"stopped at step {stop.step} of {trainer.total_steps} (checkpointed); "
                f"continue with: textedit train --resume {out}",
                file=sys.stderr,
            )
        else:
            print("stopped before the first step: nothing was trained; run the same command again", file=sys.stderr)
        raise
    except KeyboardInterrupt:  # a second Ctrl-C: stopped at once, at the last checkpoint
        print(_last_checkpoint_hint(out), file=sys.stderr)
        raise
    if exported is not None and trainer.dist.is_main:
        if trainer.step == started:
            print(f"nothing to train: the run is at its length ({trainer.step} steps); model saved to {exported}")
        else:
            print(f"trained {trainer.step} steps ({trainer.step - started} in this run); model saved to {exported}")
    elif trainer.dist.is_main:
        print(f"stopped at step {trainer.step} of {trainer.total_steps}; continue with: textedit train --resume {out}")
    return 0


def _last_checkpoint_hint(out: Path) -> str:
    """Where a run stopped at once (a second Ctrl-C) can continue from."""
    from textedit.training.checkpoint import latest_checkpoint

    path = latest_checkpoint(out / "checkpoints")
    if path is None:
        return f"stopped at once, before the first checkpoint: move {out} away and run the same command again"
    return f"stopped at once; the newest checkpoint is {path.name}: continue with: textedit train --resume {out}"
