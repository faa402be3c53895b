"""``textedit train-damsm``: train AttnGAN's DAMSM encoders (for the Sim metric), resumably."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train-damsm",
        help="train DAMSM text and image encoders (the Sim metric of textedit eval)",
        description="Train AttnGAN's Deep Attentional Multimodal Similarity Model on captioned "
        "images "
        "(words and sentence losses, γ1=4, γ2=5, γ3=10). Saves OUT/model (use it with textedit "
        "eval "
        "--damsm OUT/model) and OUT/eval.json with the held-out Sim of matching vs mismatched "
        "captions. "
        "Checkpoints are written atomically; --resume continues a run exactly, with its own "
        "data, batch size, learning rate, seed, model options and --eval-images (left out, they "
        "are the run's; other values are refused, except a larger --steps).",
    )
    p.add_argument(
        "--data",
        help="synthetic:<family> or a data set folder (default synthetic:birds)",
    )
    p.add_argument(
        "--out",
        required=True,
        help="run folder (checkpoints, metrics.jsonl/.csv, model/, eval.json)",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its newest checkpoint"
    )
    p.add_argument(
        "--image-encoder",
        choices=["small_cnn", "inception"],
        help="small_cnn (CPU-friendly, for generated data; default) or inception (AttnGAN's)",
    )
    p.add_argument(
        "--image-size", type=int, help="image side read from the data (default 64)"
    )
    p.add_argument(
        "--feature-dim", type=int, help="common feature width (default and AttnGAN: 256)"
    )
    p.add_argument(
        "--embedding-dim", type=int, help="word embedding width (default and AttnGAN: 300)"
    )
    p.add_argument(
        "--width", type=int, help="small_cnn first-layer channels (default 32)"
    )
    p.add_argument(
        "--max-words",
        type=int,
        help="longer descriptions are truncated (default and AttnGAN: 18; generated birds' run to 29)",
    )
    p.add_argument(
        "--backbone-weights",
        metavar="FILE",
        help="inception: torchvision's ImageNet file inception_v3_google-*.pth",
    )
    p.add_argument(
        "--freeze-backbone",
        action="store_true",
        help="inception: train only the projections (AttnGAN)",
    )
    p.add_argument("--steps", type=int, help="training steps (default 1000)")
    p.add_argument("--batch-size", type=int, help="default 32 (AttnGAN: 48)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default and AttnGAN: 0.002)")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument(
        "--data-n", type=int, help="synthetic: images in the generated data set (default 20000)"
    )
    p.add_argument(
        "--data-seed", type=int, help="synthetic: seed of the generated data set (default 0)"
    )
    p.add_argument("--checkpoint-every", type=int, default=200, help="default 200")
    p.add_argument(
        "--keep-checkpoints", type=int, default=2, help="keep the N newest checkpoints (default 2; 0: all)"
    )
    p.add_argument(
        "--eval-images",
        type=int,
        help="held-out images (and edit pairs) for the Sim gap (default 500)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    # left out, a setting is None: train_damsm takes its default (in the help above), or on
    # --resume the run's own; a default given explicitly is then told apart from none given
    p.set_defaults(run=run, freeze_backbone=None)


def run(args: argparse.Namespace) -> int:
    import torch

    from textedit.errors import InputError
    from textedit.evaluation.damsm_train import train_damsm
    from textedit.training.interrupt import TrainingInterrupted

    if args.threads is not None:
        if args.threads < 1:
            raise InputError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.keep_checkpoints < 0:
        raise InputError(f"--keep-checkpoints must be at least 0 (0: all), got {args.keep_checkpoints}")
    try:
        train_damsm(
            args.out,
            data=args.data,
            data_n=args.data_n,
            data_seed=args.data_seed,
            image_size=args.image_size,
            image_encoder=args.image_encoder,
            feature_dim=args.feature_dim,
            embedding_dim=args.embedding_dim,
            width=args.width,
            max_words=args.max_words,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            checkpoint_every=args.checkpoint_every,
            keep_checkpoints=args.keep_checkpoints or None,
            resume=args.resume,
            backbone_weights=args.backbone_weights,
            freeze_backbone=args.freeze_backbone,
            eval_images=args.eval_images,
            progress=not args.no_progress,
        )
    except TrainingInterrupted as stop:
        print(
            f"stopped at step {stop.step} (checkpointed); continue with: textedit train-damsm "
            f"--out {args.out} --resume"
            if stop.checkpointed
            else "stopped before the first checkpoint: run the same command again",
            file=sys.stderr,
        )
        raise
    return 0
