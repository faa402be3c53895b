"""Training DAMSM (``textedit train-damsm``) and checking that its Sim separates descriptions.

As AttnGAN's ``pretrain_DAMSM.py``: each step takes a batch of images with one of their
captions, and minimises ``w_loss0 + w_loss1 + s_loss0 + s_loss1`` with Adam (lr 0.002,
β = (0.5, 0.999)), the text encoder's gradient norm clipped at 0.25. Differences: the
learning rate stays constant (AttnGAN multiplies it by 0.98 per epoch), and the data order
is textedit's step-indexed stream (:class:`~textedit.training.data.TrainingData`), so a run
stopped and resumed (``--resume``) computes exactly what an uninterrupted one does.

After training, :func:`sim_gap` measures on the held-out split how much higher Sim is for an
image's own caption than for a mismatched one, and on generated edit pairs how much higher
for the true edit than for the unedited input; both go to ``OUT/eval.json``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from textedit.data.detect import open_dataset
from textedit.data.synthetic.data import SyntheticCaptionDataset, SyntheticSpec
from textedit.errors import InputError
from textedit.evaluation.damsm import DAMSM
from textedit.models.damsm import legacy_config
from textedit.evaluation.sources import open_eval_data
from textedit.training.checkpoint import (
    checkpoint_to_resume,
    latest_checkpoint,
    load_checkpoint,
    refuse_a_second_run,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from textedit.serialization import restoring
from textedit.training.data import TrainingData
from textedit.training.interrupt import TrainingInterrupted, stop_at_step_end
from textedit.training.metrics import MetricsLogger
from textedit.utils.atomic import atomic_write_text

__all__ = ["train_damsm", "damsm_config", "sim_gap", "open_caption_data"]


def damsm_config(
    vocabulary: tuple[str, ...],
    image_encoder: str = "small_cnn",
    image_size: int = 64,
    feature_dim: int = 256,
    embedding_dim: int = 300,
    width: int = 32,
    freeze_backbone: bool = False,
    backbone_weights: str | None = None,
    max_words: int = 18,
) -> dict[str, Any]:
    """The :class:`~textedit.models.damsm.DAMSMConfig` (as a mapping) that ``textedit
    train-damsm`` trains: a Bi-LSTM text encoder over ``vocabulary`` (dropout 0.5,
    ``max_words`` words at most: AttnGAN's 18 by default) and the image encoder
    ``image_encoder`` (``small_cnn`` at ``image_size`` with ``width`` channels, or
    ``inception``, optionally from ``backbone_weights`` and frozen)."""
    if image_encoder == "small_cnn":
        image: dict[str, Any] = {"type": "small_cnn", "image_size": image_size, "width": width}
    else:
        image = {
            "type": image_encoder,
            "freeze_backbone": freeze_backbone,
            "backbone_weights": str(backbone_weights) if backbone_weights else None,
        }
    return {
        "text_encoder": {
            "type": "bilstm",
            "vocabulary": tuple(vocabulary),
            "max_words": max_words,
            "embedding_dim": embedding_dim,
            "dropout": 0.5,
        },
        "image_encoder": image,
        "feature_dim": feature_dim,
    }


def open_caption_data(
    data: str,
    split: str,
    image_size: int,
    train: bool,
    seed: int,
    data_n: int = 20000,
    data_seed: int = 0,
):
    """A :class:`~textedit.data.base.CaptionDataset` for ``synthetic:<family>`` or a folder.

    Generated images are kept in memory once drawn (a step re-reads images of earlier epochs).
    """
    if data.startswith("synthetic:"):
        class _Cached(SyntheticCaptionDataset):
            _cache: dict[int, Any] = {}

            def read_image(self, index: int):
                if index not in self._cache:
                    self._cache[index] = super().read_image(index)
                return self._cache[index]

        spec = SyntheticSpec(family=data.split(":", 1)[1], n=data_n, seed=data_seed)
        ds = _Cached(spec, split=split, image_size=image_size, train=train, seed=seed, flip=train)
        ds._cache = {}
        return ds
    if not Path(data).is_dir():
        raise InputError(f"--data {data!r} is neither synthetic:<family> nor a data set folder")
    return open_dataset(
        data, split=split, image_size=image_size, train=train, seed=seed, flip=train
    )


@torch.no_grad()
def sim_gap(
    damsm, dataset, n_images: int = 500, batch_size: int = 50, pairs=None, n_pairs: int = 500
) -> dict[str, float]:
    """How well Sim separates matching from mismatched descriptions (held-out data).

    Args:
        damsm: a trained :class:`~textedit.evaluation.damsm.DAMSM`.
        dataset: a held-out :class:`~textedit.data.base.CaptionDataset` (``train=False``).
        n_images: images used (the first ones).
        pairs: optionally generated edit pairs (:class:`~textedit.evaluation.sources.GeneratedPairs`).

    Returns:
        ``sim_match``, ``sim_mismatch``: mean Sim of images with their own first caption and
        with a mismatched caption (fixed by the data set's seed); ``gap`` their difference;
        ``match_wins``: share of images whose own caption scores higher. With ``pairs``:
        ``sim_true_edit`` and ``sim_input`` (Sim of the true edit and of the unedited input
        with the target description), ``edit_gap`` and ``edit_wins``.
    """
    dataset.set_epoch(0)
    n = min(n_images, len(dataset))
    match, mismatch = [], []
    for start in range(0, n, batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, n))]
        images = torch.stack([it["image"] for it in items])
        match.append(damsm.sim(images, [it["caption"] for it in items]))
        mismatch.append(damsm.sim(images, [it["mismatched_caption"] for it in items]))
    a, b = torch.cat(match), torch.cat(mismatch)
    out = {
        "images": n,
        "sim_match": float(a.mean()),
        "sim_mismatch": float(b.mean()),
        "gap": float((a - b).mean()),
        "match_wins": float((a > b).float().mean()),
    }
    if pairs is not None:
        size = dataset.image_size
        k = min(n_pairs, len(pairs))
        edited, unedited = [], []
        for start in range(0, k, batch_size):
            items = [pairs.item(i, size) for i in range(start, min(start + batch_size, k))]
            texts = [it["description"] for it in items]
            edited.append(damsm.sim(torch.stack([it["target"] for it in items]), texts))
            unedited.append(damsm.sim(torch.stack([it["image"] for it in items]), texts))
        e, u = torch.cat(edited), torch.cat(unedited)
        out.update(
            pairs=k,
            sim_true_edit=float(e.mean()),
            sim_input=float(u.mean()),
            edit_gap=float((e - u).mean()),
            edit_wins=float((e > u).float().mean()),
        )
    return out


#: the settings of a new run left out (None); a resumed run keeps its own instead
DEFAULTS: dict[str, Any] = {
    "data": "synthetic:birds",
    "data_n": 20000,
    "data_seed": 0,
    "image_size": 64,
    "steps": 1000,
    "batch_size": 32,
    "lr": 2e-3,
    "seed": 0,
    "eval_images": 500,
    "image_encoder": "small_cnn",
    "feature_dim": 256,
    "embedding_dim": 300,
    "width": 32,
    "max_words": 18,
    "freeze_backbone": False,
    "backbone_weights": None,
}


def train_damsm(
    out: str | Path,
    data: str | None = None,
    data_n: int | None = None,
    data_seed: int | None = None,
    image_size: int | None = None,
    image_encoder: str | None = None,
    feature_dim: int | None = None,
    embedding_dim: int | None = None,
    width: int | None = None,
    max_words: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int | None = None,
    checkpoint_every: int = 200,
    keep_checkpoints: int | None = 2,
    resume: bool = False,
    backbone_weights: str | None = None,
    freeze_backbone: bool | None = None,
    eval_images: int | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train a DAMSM (module doc); writes ``OUT/model``, ``OUT/eval.json``, checkpoints, logs.

    A setting left out (None) takes its value from :data:`DEFAULTS` in a new run and the
    run's own on ``resume``; a setting given on ``resume`` must be the run's own, except a
    larger ``steps``. ``keep_checkpoints`` newest checkpoints are kept (None: all). Ctrl-C,
    SIGTERM or SIGHUP stop at the end of the current step with a checkpoint there
    (:class:`~textedit.training.interrupt.TrainingInterrupted`); ``resume`` continues.

    Raises:
        TextEditError: ``resume`` without a checkpoint, or ``OUT`` already holds a run.
        InputError: a number out of its range, a batch larger than the training images, or
            (with ``resume``) a training setting other than the run's.
    """
    from tqdm import tqdm

    # what decides the weights and the held-out figures (recorded in checkpoints and
    # eval.json, kept on resume); the model's options (_MODEL_OPTIONS) too: a resumed run
    # rebuilds the model from its checkpoint
    given = {
        key: value
        for key, value in {
            "data": data, "data_n": data_n, "data_seed": data_seed, "image_size": image_size,
            "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed, "eval_images": eval_images,
            "image_encoder": image_encoder, "feature_dim": feature_dim, "embedding_dim": embedding_dim,
            "width": width, "max_words": max_words, "freeze_backbone": freeze_backbone,
            "backbone_weights": backbone_weights,
        }.items()
        if value is not None
    }
    out = Path(out)
    checkpoint = None
    if resume:
        checkpoint = load_checkpoint(checkpoint_to_resume(out))
        settings = _resumed_settings(checkpoint, int(checkpoint["step"]), given)
    else:
        refuse_a_second_run(out, "DAMSM run", f"--out {out} --resume", "--out")
        settings = {**DEFAULTS, **given}
    _check_settings(settings, checkpoint_every, keep_checkpoints)
    data, data_n, data_seed, image_size, steps, batch_size, lr, seed, eval_images = (
        settings[k] for k in ("data", "data_n", "data_seed", "image_size", "steps", "batch_size", "lr", "seed", "eval_images")
    )
    image_encoder, feature_dim, embedding_dim, width, max_words, freeze_backbone, backbone_weights = (
        settings[k] for k in _MODEL_OPTIONS
    )
    torch.manual_seed(seed)
    train = open_caption_data(data, "train", image_size, True, seed, data_n, data_seed)
    if batch_size > len(train):
        raise InputError(
            f"--batch-size {batch_size} is larger than the {len(train)} training images (a contrastive "
            f"batch would repeat images as each other's mismatches); lower it"
        )
    if backbone_weights and checkpoint is None and image_encoder != "inception":
        raise InputError(
            "--backbone-weights starts the Inception image encoder; use it with "
            "--image-encoder inception"
        )
    if checkpoint is not None:
        config = checkpoint["config"]
        if "vocabulary" in config:  # a run started before DAMSM was a composition
            config = legacy_config(config)
        with restoring():  # the checkpoint's weights replace any backbone file's
            model = DAMSM(config)
    else:
        model = DAMSM(
            damsm_config(
                tuple(train.build_vocabulary().words),
                image_encoder=image_encoder,
                image_size=image_size,
                feature_dim=feature_dim,
                embedding_dim=embedding_dim,
                width=width,
                max_words=max_words,
                freeze_backbone=freeze_backbone,
                backbone_weights=backbone_weights,
            )
        )
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    step = 0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["optimizer"])
        step = int(checkpoint["step"])
        set_rng_state(checkpoint["rng"])
    stream = TrainingData(train, batch_size, seed, vocabulary=None)
    logger = MetricsLogger(
        out, resume_step=step if checkpoint is not None else None, tensorboard=False
    )
    began = time.time() - (float(checkpoint.get("elapsed_s", 0.0)) if checkpoint is not None else 0.0)
    model.train()

    def save(at: int) -> None:
        save_checkpoint(
            out / "checkpoints",
            at,
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "config": model.config.to_dict(),
                "rng": rng_state(),
                "settings": settings,
                "elapsed_s": time.time() - began,  # the training time of every segment so far
            },
            keep=keep_checkpoints,
        )

    stop = []
    with (
        tqdm(total=steps, initial=step, desc="DAMSM", unit="step", disable=not progress) as bar,
        stop_at_step_end(lambda: stop.append(True)),
    ):
        while step < steps and not stop:
            batch = stream.batch(step)
            terms = model.losses(batch.images, batch.captions)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.text_encoder.parameters(), 0.25)
            opt.step()
            step += 1
            bar.update(1)
            if step % 10 == 0 or step == steps:
                record = {"step": step, **{k: round(v.item(), 5) for k, v in terms.items()}}
                logger.log(record)
                bar.set_postfix(loss=f"{record['loss']:.3f}")
            if step % checkpoint_every == 0 or step == steps or stop:
                save(step)
    logger.close()
    if stop and step < steps:
        raise TrainingInterrupted(step, checkpointed=latest_checkpoint(out / "checkpoints") is not None)
    model.save_pretrained(out / "model")
    test = open_caption_data(data, "test", image_size, False, seed, data_n, data_seed)
    pairs = None
    if data.startswith("synthetic:"):
        pairs = open_eval_data(data, "test", data_n, data_seed)
    gap = sim_gap(model.eval(), test, eval_images, pairs=pairs, n_pairs=eval_images)
    config = model.config.to_dict()
    vocabulary = config["text_encoder"].pop("vocabulary", ())
    summary = {
        "held_out": gap,
        "settings": settings,
        "config": config,
        "vocabulary_size": len(vocabulary),
        "wall_time_s": round(time.time() - began, 1),
    }
    atomic_write_text(out / "eval.json", json.dumps(summary, indent=2) + "\n")
    log(
        f"held-out Sim ({gap['images']} images): own caption {gap['sim_match']:.3f}, mismatched "
        f"{gap['sim_mismatch']:.3f}, gap {gap['gap']:.3f} (own caption higher for "
        f"{100 * gap['match_wins']:.1f}%)"
    )
    if "edit_gap" in gap:
        log(
            f"held-out Sim ({gap['pairs']} edit pairs, target description): true edit "
            f"{gap['sim_true_edit']:.3f}, "
            f"input {gap['sim_input']:.3f}, gap {gap['edit_gap']:.3f} (true edit higher for "
            f"{100 * gap['edit_wins']:.1f}%)"
        )
    log(f"saved {out / 'model'}; use it with textedit eval --damsm {out / 'model'}")
    return summary


#: the options that shape the network; a resumed run rebuilds it from its checkpoint
_MODEL_OPTIONS = (
    "image_encoder", "feature_dim", "embedding_dim", "width", "max_words", "freeze_backbone", "backbone_weights",
)


def _check_settings(settings: dict[str, Any], checkpoint_every: int, keep_checkpoints: int | None) -> None:
    """Raise :class:`InputError` for a number out of its range."""
    for name, value, least in (
        ("steps", settings["steps"], 1),
        ("batch_size", settings["batch_size"], 2),  # a contrastive batch: each image against the others' captions
        ("checkpoint_every", checkpoint_every, 1),
        ("eval_images", settings["eval_images"], 1),
        ("keep_checkpoints", 1 if keep_checkpoints is None else keep_checkpoints, 1),
    ):
        if value < least:
            raise InputError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")
    if not (math.isfinite(settings["lr"]) and settings["lr"] > 0):
        raise InputError(f"--lr must be a positive number, got {settings['lr']}")
    if settings["seed"] < 0 or settings["data_seed"] < 0:
        raise InputError(f"--seed and --data-seed must be at least 0, got {settings['seed']} and {settings['data_seed']}")


def _resumed_settings(checkpoint: dict[str, Any], at: int, given: dict[str, Any]) -> dict[str, Any]:
    """The settings a resumed run continues with: the run's own, in place of every setting
    not given; another value given is refused, except more ``steps``. A run from before the
    model options were recorded refuses any model option given."""
    saved_settings = checkpoint.get("settings", {})
    settings = {**DEFAULTS, **saved_settings, **given}
    for key, value in given.items():
        if key not in saved_settings:
            if key in _MODEL_OPTIONS:
                raise InputError(
                    f"this run's checkpoint does not record --{key.replace('_', '-')}; --resume rebuilds the "
                    f"model from the checkpoint: leave the model options out, or start a new run in another --out"
                )
            continue
        saved = saved_settings[key]
        if value != saved and key != "steps":
            raise InputError(
                f"this run was trained with {key}={saved!r}, not {value!r}; --resume continues "
                f"a run with its own settings: leave --{key.replace('_', '-')} out, or start a new run "
                f"in another --out"
            )
    if settings["steps"] < at:
        raise InputError(f"this run is at step {at}; --steps {settings['steps']} is behind it (give at least {at})")
    return settings
