"""The two-stage MIM-Net trainer (spec section 6), resumable and optionally distributed.

Each iteration is one **reconstruction step** (the image with its own description:
L1 at every stage, pseudo ground-truth feature matching, the randomised memory loss; the
only step that updates the memories unless ``memory_updates: every_step``) followed by one
**adversarial step** (a mismatched description; a discriminator step, then a generator
step, with the optional paired losses of generated data).

Everything random is drawn from generators seeded by ``(seed, step)`` or by the position
in the data stream, and the global RNG states are checkpointed, so a run interrupted and
resumed computes exactly what the uninterrupted run computes, and ``torchrun`` processes
that split a global batch compute the same update as one process on the whole batch.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from textedit.errors import TextEditError
from textedit.training import distributed as dist_utils
from textedit.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from textedit.training.config import TrainConfig
from textedit.training.data import TrainingData, build_training_data
from textedit.training.losses import (
    discriminator_loss,
    edit_mask_loss,
    edit_region_loss,
    generator_adversarial_loss,
    generator_reality_loss,
    pseudo_ground_truth_loss,
    reconstruction_loss,
)
from textedit.training.metrics import MetricsLogger
from textedit.utils.cpu import cpu_has_native_bf16

__all__ = ["Trainer", "REQUIRED_SLOTS"]

REQUIRED_SLOTS = ("text_encoder", "memory_bank", "structure_extractor", "localizer", "generator", "discriminator")


@contextlib.contextmanager
def frozen(params: list[nn.Parameter]) -> Iterator[None]:
    """Temporarily stop gradients to ``params`` (restoring their previous flags)."""
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


class Trainer:
    """Trains a composition with MIM-Net's slots on the data a :class:`TrainConfig` names.

    Args:
        config: the training config.
        resume: resume from the newest checkpoint in ``config.output_dir``.
        progress: show a progress bar (rank 0 only).
    """

    def __init__(self, config: TrainConfig, resume: bool = False, progress: bool = True):
        self.config = config
        self.out = Path(config.output_dir)
        self.dist = dist_utils.DistributedContext.from_environment(config.device)
        self.device = self.dist.device
        if config.threads is not None and self.device.type == "cpu":
            torch.set_num_threads(config.threads)
        self.autocast_dtype = self._autocast_dtype()
        self.progress = progress and self.dist.is_main

        checkpoint = None
        if resume:
            path = latest_checkpoint(self.out / "checkpoints")
            if path is None:
                raise TextEditError(
                    f"nothing to resume in {self.out}: no checkpoint under {self.out / 'checkpoints'}; "
                    f"start a new run without --resume"
                )
            checkpoint = load_checkpoint(path)
        torch.manual_seed(config.seed)
        self.data: TrainingData = build_training_data(config, vocabulary_words=_saved_vocabulary(checkpoint))
        self.model = self._build_model()
        self.generator_modules = [getattr(self.model, s) for s in REQUIRED_SLOTS if s != "discriminator"]
        self.g_params = [p for m in self.generator_modules for p in m.parameters()]
        self.d_params = list(self.model.discriminator.parameters())
        self.memory_params = list(self.model.memory_bank.memory_parameters())
        opt = config.optimizer
        self.opt_g = torch.optim.Adam(self.g_params, lr=opt.lr_generator, betas=(opt.beta1, opt.beta2), weight_decay=opt.weight_decay)
        self.opt_d = torch.optim.Adam(self.d_params, lr=opt.lr_discriminator, betas=(opt.beta1, opt.beta2), weight_decay=opt.weight_decay)
        self.ema = [p.detach().clone() for p in self.g_params] if config.ema_decay else None
        self.step = 0
        self.total_steps = config.total_steps(len(self.data.dataset))
        if checkpoint is not None:
            self._restore(checkpoint)

    # ------------------------------------------------------------------ setup
    def _autocast_dtype(self) -> torch.dtype | None:
        mode = self.config.mixed_precision
        if mode == "no":
            return None
        if self.device.type == "cpu" and mode == "bf16" and cpu_has_native_bf16():
            return torch.bfloat16
        if self.device.type != "cuda":
            warnings.warn(
                f"mixed_precision={mode!r} is ignored on this CPU: without native bf16 "
                f"arithmetic (AVX512-BF16 or AMX) half precision is about 100x slower there "
                f"than float32; training in float32",
                stacklevel=3,
            )
            return None
        return torch.bfloat16 if mode == "bf16" else torch.float16

    def _build_model(self) -> nn.Module:
        from textedit.registry.api import resolve_model_config

        spec = dict(self.config.model)
        composition, config = resolve_model_config(spec)
        text_encoder = getattr(config, "text_encoder", None)
        if self.data.vocabulary is not None and text_encoder is not None and "vocabulary" in type(text_encoder.config).model_fields:
            # a text encoder with a word vocabulary learns the training captions' words
            slot = spec.get("text_encoder", {})
            slot = {"type": slot} if isinstance(slot, str) else dict(slot)
            spec = {**spec, "text_encoder": {**slot, "vocabulary": list(self.data.vocabulary.words)}}
            composition, config = resolve_model_config(spec)
        model = composition.from_config(config)
        if self.config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        missing = [s for s in REQUIRED_SLOTS if not hasattr(model, s)]
        if missing:
            raise TextEditError(
                f"the MIM-Net trainer needs a model with the slots {list(REQUIRED_SLOTS)}; "
                f"{type(model).__name__} lacks {missing}"
            )
        return model.to(self.device)

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None and state.get("ema") is not None:
            for e, s in zip(self.ema, state["ema"]):
                e.copy_(s)
        self.step = int(state["step"])
        set_rng_state(state["rng"])

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint holds (see :mod:`textedit.training.checkpoint`)."""
        return {
            "model": self.model.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "ema": self.ema,
            "rng": rng_state(),
            "config": self.config.model_dump(mode="json"),
            "vocabulary": list(self.data.vocabulary.words) if self.data.vocabulary is not None else None,
        }

    # ------------------------------------------------------------------ steps
    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def _generate(self, image: Tensor, tokens: Any, structure: Any = None, random_memory_seeds: list[int] | None = None):
        """Text -> memory read -> generator output.

        With ``random_memory_seeds`` (one per row), the memory is read with random convex
        weights drawn per row from a generator of that seed, so the draw of a row does not
        depend on the batch it sits in (padding, other rows, the process under torchrun).
        """
        m = self.model
        text = m.encode_text(tokens)
        if random_memory_seeds is not None:
            mask = text.word_mask
            weights = torch.cat([
                m.memory_bank.sample_convex_weights(
                    mask[i : i + 1], generator=torch.Generator(device=mask.device).manual_seed(seed)
                )
                for i, seed in enumerate(random_memory_seeds)
            ])
            memory = m.memory_bank.read(weights, mask)
        else:
            memory = m.read_memory(text, return_attention=False)
        if structure is None:
            structure = m.extract_structure(image)
        return text, structure, m.generate(image, text, memory, structure)

    def _sync(self, params: list[nn.Parameter]) -> None:
        self.dist.average_gradients(params)
        clip = self.config.optimizer.grad_clip
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)

    def reconstruction_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Own descriptions; updates every generator-side weight, memories included."""
        m, w = self.model, self.config.losses
        image = batch["image"]
        targets = m.stage_images(image)
        with frozen(self.d_params), self._autocast():
            _, structure, out = self._generate(image, batch["tokens"])
            rec = reconstruction_loss(out.images, targets)
            pgt = (
                pseudo_ground_truth_loss(out.texture_feature, out.localized_feature)
                if out.texture_feature is not None and out.localized_feature is not None
                else torch.zeros((), device=image.device)
            )
            loss = w.reconstruction * rec + w.pseudo_ground_truth * pgt
            mem = torch.zeros((), device=image.device)
            if w.random_memory > 0:
                _, _, random_out = self._generate(
                    image, batch["tokens"], structure, random_memory_seeds=batch["seeds"]
                )
                mem = generator_reality_loss(m.discriminate(random_out.images))
                loss = loss + w.random_memory * mem
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self._sync(self.g_params)
        self.opt_g.step()
        return {"rec_l1": rec.item(), "pgt": pgt.item(), "mem": mem.item(), "g_rec_total": loss.item()}

    def adversarial_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """Mismatched descriptions; a D step then a G step; memories frozen unless
        ``memory_updates`` is ``every_step``."""
        m, w = self.model, self.config.losses
        image = batch["image"]
        reals = m.stage_images(image)
        memory = self.memory_params if self.config.memory_updates == "reconstruction" else []
        with frozen(memory):
            with frozen(self.d_params), self._autocast():
                text_hat, _, fake = self._generate(image, batch["mismatched_tokens"])
                own_text = m.encode_text(batch["tokens"]).detach()
            # discriminator step
            with self._autocast():
                d_real = m.discriminate(reals, own_text)
                d_mismatch = m.discriminate(reals, text_hat.detach())
                d_fake = m.discriminate([f.detach() for f in fake.images])
                loss_d, parts_d = discriminator_loss(
                    d_real, d_mismatch, d_fake, w.discriminator_conformity, w.discriminator_stages
                )
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self._sync(self.d_params)
            self.opt_d.step()
            # generator step
            with frozen(self.d_params), self._autocast():
                d_fake = m.discriminate(fake.images, text_hat.detach())
                loss_g, parts_g = generator_adversarial_loss(d_fake, w.generator_conformity)
                if w.manipulation_l1 > 0:
                    loss_g = loss_g + w.manipulation_l1 * reconstruction_loss(fake.images, reals)
                if w.paired():
                    truths = m.stage_images(batch["mismatched_target"])
                    true_l1 = reconstruction_loss(fake.images, truths)
                    weights = None
                    if w.edit_region_weighting == "part":
                        weights = m.stage_images(batch["mismatched_weight"])
                    # a compositing generator's decoder learns the edited region even where
                    # its mask is still closed
                    region_l1 = sum(
                        edit_region_loss(o, truths, reals, weights) for o in _images_and_decoded(fake)
                    )
                    loss_g = loss_g + w.true_edit * true_l1 + w.edit_region * region_l1
                    if w.edit_mask > 0:
                        mask_bce = edit_mask_loss(fake.localization, batch["mismatched_target"], image)
                        loss_g = loss_g + w.edit_mask * mask_bce
                        parts_g["edit_mask_bce"] = mask_bce.item()
                    parts_g["true_edit_l1"] = true_l1.item()
                    parts_g["edit_region_l1"] = region_l1.item()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self._sync(self.g_params)
            self.opt_g.step()
        return {"d_total": loss_d.item(), "g_adv_total": loss_g.item(), **parts_d, **parts_g}

    def learning_rate_factor(self, step: int) -> float:
        """Multiplier of the configured learning rates at ``step`` (0-based)."""
        opt = self.config.optimizer
        if opt.schedule == "constant":
            return 1.0
        if step < opt.warmup_steps:
            return (step + 1) / opt.warmup_steps
        span = max(1, self.total_steps - opt.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - opt.warmup_steps) / span)))

    def _set_learning_rates(self) -> None:
        # a function of the step alone, so a resumed run follows the same schedule
        factor = self.learning_rate_factor(self.step)
        opt = self.config.optimizer
        for optimizer, lr in ((self.opt_g, opt.lr_generator), (self.opt_d, opt.lr_discriminator)):
            for group in optimizer.param_groups:
                group["lr"] = lr * factor

    def _update_ema(self) -> None:
        if self.ema is None:
            return
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            torch._foreach_lerp_(self.ema, [p.detach() for p in self.g_params], 1 - decay)

    def train_step(self) -> dict[str, float]:
        """One iteration: the batch of this step, both stages, the EMA update."""
        batch = self.data.batch(self.step, rank=self.dist.rank, world_size=self.dist.world_size)
        tokenize = self.model.tokenize
        fmt = torch.channels_last if self.config.channels_last else torch.contiguous_format
        self._set_learning_rates()
        batch = {
            "image": batch.images.to(self.device, memory_format=fmt),
            "tokens": tokenize(batch.captions),
            "mismatched_tokens": tokenize(batch.mismatched),
            "seeds": batch.seeds,
            "mismatched_target": None if batch.mismatched_targets is None else batch.mismatched_targets.to(self.device),
            "mismatched_weight": None if batch.mismatched_weights is None else batch.mismatched_weights.to(self.device),
        }
        self.model.train()
        metrics = self.reconstruction_step(batch)
        metrics.update(self.adversarial_step(batch))
        self.step += 1
        self._update_ema()
        return metrics

    # ------------------------------------------------------------------ loop
    def train(self, max_steps: int | None = None) -> Path | None:
        """Train to the configured length (or ``max_steps`` more steps); return the exported model.

        Checkpoints every ``checkpoint_every`` steps and at the end; exports the final
        model (EMA weights when enabled) to ``output_dir/model``.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        end = self.total_steps if max_steps is None else min(self.total_steps, self.step + max_steps)
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            _write_config(self.out / "config.yaml", cfg)
        logger = MetricsLogger(self.out, resume_step=self.step) if self.dist.is_main else None
        bar = tqdm(total=self.total_steps, initial=self.step, disable=not self.progress, unit="step", dynamic_ncols=True)
        window_start, window_images = time.perf_counter(), 0
        try:
            while self.step < end:
                metrics = self.train_step()
                window_images += cfg.batch_size
                if not all(math.isfinite(v) for v in metrics.values()):
                    raise TextEditError(
                        f"training diverged at step {self.step}: {metrics}; lower the learning rates "
                        f"or set optimizer.grad_clip, and resume from the last checkpoint"
                    )
                bar.update(1)
                if self.step % cfg.log_every == 0 or self.step == end:
                    elapsed = time.perf_counter() - window_start
                    rate = window_images / elapsed if elapsed > 0 else float("nan")
                    window_start, window_images = time.perf_counter(), 0
                    bar.set_postfix(rec=f"{metrics['rec_l1']:.3f}", d=f"{metrics['d_total']:.2f}",
                                    g=f"{metrics['g_adv_total']:.2f}", img_s=f"{rate:.1f}")
                    if logger is not None:
                        logger.log({"step": self.step, "images_per_s": rate, "time": time.time(), **metrics})
                if self.dist.is_main and self.step % cfg.sample_every == 0:
                    self.save_samples()
                if self.step % cfg.checkpoint_every == 0 or self.step == end:
                    self.checkpoint()
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        if self.step >= self.total_steps and self.dist.is_main:
            return self.export(self.out / "model")
        return None

    def checkpoint(self) -> None:
        """Write a resumable checkpoint (rank 0; every rank waits for it)."""
        if self.dist.is_main:
            save_checkpoint(self.out / "checkpoints", self.step, self.state_dict(), keep=self.config.keep_checkpoints)
        self.dist.barrier()

    @contextlib.contextmanager
    def ema_weights(self) -> Iterator[nn.Module]:
        """The model with the EMA weights swapped in (restored afterwards)."""
        if self.ema is None:
            yield self.model
            return
        backup = [p.detach().clone() for p in self.g_params]
        with torch.no_grad():
            for p, e in zip(self.g_params, self.ema):
                p.copy_(e)
        try:
            yield self.model
        finally:
            with torch.no_grad():
                for p, b in zip(self.g_params, backup):
                    p.copy_(b)

    def export(self, directory: Path) -> Path:
        """Save the model (EMA weights when enabled) with ``save_pretrained``."""
        with self.ema_weights() as model:
            exported = copy.deepcopy(model).cpu()
        exported.save_pretrained(directory)
        return directory

    def save_samples(self) -> Path:
        """A grid of (input, coarse, fine, TLU map) for fixed examples and descriptions."""
        from textedit.training.samples import sample_grid

        path = self.out / "samples" / f"step_{self.step:08d}.png"
        with self.ema_weights() as model:
            sample_grid(model, self.data.sample_batch(self.config.num_samples, self.device), path)
        return path


def _images_and_decoded(out: Any) -> list[tuple[Tensor, ...]]:
    """The output images, and for a generator that composites its output with the input,
    the images it decoded before compositing."""
    return [out.images] if out.decoded is None else [out.images, out.decoded]


def _saved_vocabulary(checkpoint: dict[str, Any] | None) -> list[str] | None:
    return None if checkpoint is None else checkpoint.get("vocabulary")


def _write_config(path: Path, config: TrainConfig) -> None:
    from textedit.config.io import write_config_file

    write_config_file(path, config.model_dump(mode="json"))
