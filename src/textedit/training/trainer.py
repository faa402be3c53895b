"""The trainer: what every recipe shares, resumable and optionally distributed.

The model's training recipe (:mod:`textedit.interfaces.recipe`, named by the config's
``recipe``, else the model's default) owns the objective: the losses, the parameter groups
and the passes of one iteration. The trainer owns the rest: the data stream, one Adam per
parameter group with the learning-rate schedule, gradient averaging across ``torchrun``
processes and clipping, autocast, the EMA, checkpoints and exact resume, logs, sample grids
and the export of the final model.

Everything random is drawn from generators seeded by ``(seed, step)`` or by the position
in the data stream, and the global RNG states are checkpointed, so a run interrupted and
resumed computes exactly what the uninterrupted run computes, and ``torchrun`` processes
that split a global batch compute the same update as one process on the whole batch.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
import os
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from textedit.config.base import validate_config
from textedit.config.io import write_config_file
from textedit.errors import ConfigError, TextEditError
from textedit.interfaces.model import TextModel
from textedit.interfaces.recipe import Recipe, TrainingBatch
from textedit.pretrained import EXPORT_RECORD, load
from textedit.registry.api import create_recipe, resolve_model_config
from textedit.registry.kinds import MODEL_KIND, get_registry
from textedit.serialization import restoring
from textedit.training import distributed as dist_utils
from textedit.training.checkpoint import (
    checkpoint_to_resume,
    load_checkpoint,
    refuse_a_second_run,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from textedit.training.config import TrainConfig, saved_model_spec
from textedit.training.data import TrainingData, build_training_data
from textedit.training.interrupt import TrainingInterrupted, stop_at_step_end
from textedit.training.metrics import MetricsLogger
from textedit.training.samples import sample_grid
from textedit.utils.atomic import atomic_write_text, existing_ancestor
from textedit.utils.cpu import cpu_has_native_bf16
from textedit.utils.digest import weights_digest

#: beside ``config.yaml``: the plug-in packages (and versions) the run's model and recipe come from
PLUGINS_RECORD = "plugins.json"

__all__ = ["Trainer", "TrainingInterrupted"]


class Trainer:
    """Trains a model with its recipe on the data a :class:`TrainConfig` names.

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
            checkpoint = load_checkpoint(checkpoint_to_resume(self.out))
        else:  # a new run there would overwrite the old one's files
            refuse_a_second_run(self.out, "training run", f"--resume {self.out}", "output_dir (--out)")
        writable = existing_ancestor(self.out)
        if self.dist.is_main and not os.access(writable, os.W_OK):
            raise TextEditError(
                f"cannot write the run folder {self.out}: {writable} is not writable (a read-only "
                f"file system or another owner's folder); choose another output_dir (--out)"
            )
        # every generator a recipe may draw from starts from the seed (and is checkpointed)
        random.seed(config.seed)
        np.random.seed(config.seed)
        torch.manual_seed(config.seed)
        self.data: TrainingData = build_training_data(
            config, vocabulary_words=_saved_vocabulary(checkpoint), device=self.device
        )
        self.model = self._build_model(checkpoint)
        self.recipe: Recipe = create_recipe(config.recipe, self.model, self)
        # a frozen parameter (a pretrained text encoder's) is in no optimiser and no EMA
        self.groups = {
            name: [p for p in params if p.requires_grad]
            for name, params in self.recipe.parameter_groups().items()
        }
        _check_groups(self.model, self.groups, type(self.recipe).__name__)
        opt = config.optimizer
        unknown = [g for g in opt.learning_rates if g not in self.groups]
        if unknown:
            raise ConfigError(
                [(f"optimizer.learning_rates.{g}", f"{type(self.recipe).__name__} has no parameter group {g!r}; "
                  f"its groups: {', '.join(self.groups)}") for g in unknown],
                source="the training config",
            )
        fused = config.fused_optimizer
        if fused is None:
            fused = self.device.type == "cuda" or (self.device.type == "cpu" and _fused_adam_on_cpu())
        self.optimizers = {
            name: torch.optim.Adam(
                params, lr=opt.learning_rate(name), betas=(opt.beta1, opt.beta2),
                weight_decay=opt.weight_decay, fused=fused or None,
            )
            for name, params in self.groups.items()
        }
        # the EMA averages the recipe's parameters and, beside them, batch norm's running
        # statistics (so that the exported statistics belong to the averaged weights)
        self.ema_params = [p for p in self.recipe.ema_parameters() if p.requires_grad]
        self.ema_buffers = self.recipe.ema_buffers()
        self.ema = [p.detach().clone() for p in self.ema_params] if config.ema_decay else None
        self.ema_buffer_values = [b.detach().clone() for b in self.ema_buffers] if config.ema_decay else None
        self.step = 0
        self.total_steps = config.total_steps(len(self.data.dataset))
        self.interrupted = False
        self._log_lines = False  # progress as log lines (train() decides: stderr not a terminal)
        if checkpoint is not None:
            _warn_about_changes(checkpoint.get("config"), config)
            _warn_about_changed_inputs(checkpoint.get("recipe_inputs"), self._recipe_inputs())
            self._restore(checkpoint)
            if self.step > self.total_steps:
                raise TextEditError(
                    f"the run in {self.out} is at step {self.step}, past this config's length of "
                    f"{self.total_steps} steps; resume with steps={self.step} or more"
                )
            self._warn_about_a_stretched_schedule(checkpoint.get("config"))

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

    def plugins(self) -> list[dict[str, Any]]:
        """The plug-in packages this run's model and recipe come from (what the preset, the
        composition, each slot's component and the recipe are registered by, textedit's own
        left out): written to ``PLUGINS_RECORD`` so that resuming without them says what to
        install."""
        model_registry = get_registry(MODEL_KIND)
        named = self.config.model.get("type")
        lookups = [("recipe", lambda: get_registry("recipe").entry_for(type(self.recipe))),
                   ("model", lambda: model_registry.entry_for(type(self.model)))]
        if isinstance(named, str):
            lookups.append(("model", lambda: model_registry.resolve(named)))
        lookups += [(c.kind, functools.partial(get_registry(c.kind).entry_for, type(c)))
                    for c in self.model.components().values()]
        found: list[dict[str, Any]] = []
        for kind, lookup in lookups:
            try:
                entry = lookup()
            except TextEditError:  # not registered under a name (built in code, say): nothing to record
                continue
            item = {"kind": kind, "name": entry.name, "distribution": entry.distribution, "version": entry.version}
            if entry.distribution != "textedit" and item not in found:
                found.append(item)
        return found

    def _build_model(self, checkpoint: dict[str, Any] | None = None) -> TextModel:
        spec = dict(self.config.model)
        composition, config = resolve_model_config(spec)
        text_encoder = getattr(config, "text_encoder", None)
        learns_words = text_encoder is not None and "vocabulary" in type(text_encoder.config).model_fields
        slot = spec.get("text_encoder", {})
        slot = {"type": slot} if isinstance(slot, str) else dict(slot)
        # a text encoder with a word vocabulary learns the training captions' words, unless the
        # config gives it one, or the model comes trained (init_from) with its own (read at the
        # start only: a resumed run rebuilds its model from the checkpoint's config below)
        if learns_words and "vocabulary" not in slot:
            if self.config.init_from is not None:
                words = None if checkpoint is not None else saved_model_spec(self.config.init_from).get("text_encoder", {}).get("vocabulary")
            else:
                words = None if self.data.vocabulary is None else list(self.data.vocabulary.words)
            if words is not None:
                spec = {**spec, "text_encoder": {**slot, "vocabulary": list(words)}}
                composition, config = resolve_model_config(spec)
        if not issubclass(composition, TextModel):
            raise TextEditError(
                f"model {spec.get('type')!r} is a {composition.__name__}, which neither edits nor "
                f"draws images from text (not a textedit.interfaces.EditingModel or "
                f"GeneratingModel); train an editing or a text-to-image model"
            )
        saved = None if checkpoint is None else checkpoint.get("model_config")
        if saved is not None and (checkpoint.get("config") or {}).get("model") == self.config.model_dump(mode="json")["model"]:
            # a resumed run rebuilds the architecture it was started with: what a component
            # read from a file then (a frozen text encoder's source) is not read again, since
            # a file changed since would no longer match the checkpoint's weights
            with restoring():
                model = composition.from_config(validate_config(composition.config_class, saved))
        else:
            try:
                model = composition.from_config(config)
            except ConfigError as exc:  # a component refused its config: name it in the run's
                raise exc.under("model") from exc
            if self.config.init_from is not None and checkpoint is None:
                _load_initial_weights(model, self.config.init_from, partial=self.config.init_partial)
        if self.config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        model = model.to(self.device)
        return model.compile_components() if self.config.compile else model

    def _restore(self, state: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:  # missing, unexpected or resized weights
            first = str(exc).strip().splitlines()
            raise TextEditError(
                f"the checkpoint's weights do not fit this run's {type(self.model).__name__} "
                f"({first[1].strip() if len(first) > 1 else first[0]} ...); it was written for "
                f"another model or model config: resume with the run's own config, or start a "
                f"new run"
            ) from exc
        # checkpoints written before recipes existed name the two optimisers opt_g and opt_d
        saved = state.get("optimizers") or {"generator": state.get("opt_g"), "discriminator": state.get("opt_d")}
        for name, optimizer in self.optimizers.items():
            if saved.get(name) is None:
                raise TextEditError(
                    f"the checkpoint has no optimiser state for parameter group {name!r} "
                    f"(it has {sorted(k for k, v in saved.items() if v is not None)}); it was written "
                    f"by another recipe: resume with the run's own config"
                )
            settings = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
            try:
                optimizer.load_state_dict(saved[name])
            except ValueError as exc:  # another number of parameters in the group
                raise TextEditError(
                    f"the checkpoint's optimiser state for parameter group {name!r} does not fit "
                    f"this run's parameters ({exc}); it was written by another config or by a "
                    f"textedit before frozen parameters were left out of the optimisers: resume "
                    f"with the run's own config and textedit version, or start a new run"
                ) from exc
            # the moments resume; the settings (betas, weight decay, fused) are this config's,
            # as a resumed run's overrides say (the learning rate is set at every step)
            for group, setting in zip(optimizer.param_groups, settings):
                group.update(setting)
        if self.ema is not None and state.get("ema") is not None:
            if len(state["ema"]) != len(self.ema):
                raise TextEditError(
                    f"the checkpoint's EMA averages {len(state['ema'])} parameters, this run "
                    f"{len(self.ema)}; it was written by another config or by a textedit before "
                    f"frozen parameters were left out of the EMA: resume with the run's own "
                    f"config and textedit version, or start a new run"
                )
            for e, s in zip(self.ema, state["ema"]):
                e.copy_(s)
            # checkpoints written before the EMA held buffers start them from the restored ones
            saved_buffers = state.get("ema_buffers") or [b.detach() for b in self.ema_buffers]
            for e, s in zip(self.ema_buffer_values, saved_buffers):
                e.copy_(s)
        elif self.ema is not None:  # the EMA switched on at resume: it starts from the restored weights
            for e, p in zip([*self.ema, *self.ema_buffer_values], [*self.ema_params, *self.ema_buffers]):
                e.copy_(p.detach())
        self.step = int(state["step"])
        set_rng_state(state["rng"])

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint holds (see :mod:`textedit.training.checkpoint`)."""
        return {
            "model": self.model.state_dict(),
            "optimizers": {name: o.state_dict() for name, o in self.optimizers.items()},
            "ema": self.ema,
            "ema_buffers": self.ema_buffer_values,
            "rng": rng_state(),
            "config": self.config.model_dump(mode="json"),
            "model_config": self.model.config.model_dump(mode="json"),  # as built (sources read)
            "recipe_inputs": self._recipe_inputs(),
            "vocabulary": list(self.data.vocabulary.words) if self.data.vocabulary is not None else None,
        }

    def _recipe_inputs(self) -> dict[str, str]:
        """Weight digests of the modules a recipe holds beside the model (a frozen DAMSM read
        from a file): read again at resume, so a change since is said."""
        return {
            name: weights_digest(module)
            for name, module in vars(self.recipe).items()
            if isinstance(module, nn.Module) and module is not self.model
        }

    # --------------------------------------------- what recipes use (TrainingContext)
    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The run's autocast context (a no-op without mixed precision)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def update(self, group: str, loss: Tensor) -> None:
        """Back-propagate ``loss`` and step the optimiser of parameter group ``group``
        (gradients averaged across processes, then clipped)."""
        optimizer, params = self.optimizers[group], self.groups[group]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(params)
        clip = self.config.optimizer.grad_clip
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()

    # ------------------------------------------------------------------ steps
    def learning_rate_factor(self, step: int, total_steps: int | None = None) -> float:
        """Multiplier of the configured learning rates at ``step`` (0-based) of a run of
        ``total_steps`` (default: this run's length)."""
        opt = self.config.optimizer
        if opt.schedule == "constant":
            return 1.0
        if step < opt.warmup_steps:
            return (step + 1) / opt.warmup_steps
        span = max(1, (self.total_steps if total_steps is None else total_steps) - opt.warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - opt.warmup_steps) / span)))

    def _warn_about_a_stretched_schedule(self, saved: dict[str, Any] | None) -> None:
        """Warn when a resumed cosine schedule's length changed: the decay is over the run's
        length, so the learning rate jumps where the new curve is at this step."""
        if not saved or self.config.optimizer.schedule != "cosine":
            return
        try:
            before = self.config.model_copy(update={"steps": saved.get("steps"), "epochs": saved.get("epochs")})
            old_total = before.total_steps(len(self.data.dataset))
        except (TypeError, ValueError):  # a checkpoint without a length (not a textedit run's)
            return
        if old_total == self.total_steps:
            return
        now, then = self.learning_rate_factor(self.step), self.learning_rate_factor(self.step, old_total)
        moved = f"move from {then:.0%} to {now:.0%} of the base rates" if round(then, 2) != round(now, 2) else f"are {now:.0%} of the base rates"
        warnings.warn(
            f"the cosine schedule decays over the run's length, which changed from {old_total} to "
            f"{self.total_steps} steps: at step {self.step} the learning rates {moved} and follow the new "
            f"curve from there",
            UserWarning,
            stacklevel=3,
        )

    def _set_learning_rates(self) -> None:
        # a function of the step alone, so a resumed run follows the same schedule
        factor = self.learning_rate_factor(self.step)
        opt = self.config.optimizer
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group["lr"] = opt.learning_rate(name) * factor

    def _update_ema(self) -> None:
        if self.ema is None:
            return
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            torch._foreach_lerp_(self.ema, [p.detach() for p in self.ema_params], 1 - decay)
            if self.ema_buffers:
                torch._foreach_lerp_(self.ema_buffer_values, self.ema_buffers, 1 - decay)

    def training_batch(self, step: int) -> TrainingBatch:
        """This process's share of ``step``'s batch, tokenised and on the training device."""
        batch = self.data.batch(step, rank=self.dist.rank, world_size=self.dist.world_size)
        tokenize = self.model.tokenize
        fmt = torch.channels_last if self.config.channels_last else torch.contiguous_format
        # non_blocking: asynchronous from pinned batches on CUDA, an ordinary copy otherwise
        optional = lambda t: None if t is None else t.to(self.device, non_blocking=True)
        return TrainingBatch(
            image=batch.images.to(self.device, memory_format=fmt, non_blocking=True),
            tokens=tokenize(batch.captions),
            mismatched_tokens=tokenize(batch.mismatched),
            seeds=batch.seeds,
            mismatched_target=optional(batch.mismatched_targets),
            mismatched_weight=optional(batch.mismatched_weights),
        )

    def train_step(self, batch: TrainingBatch | None = None) -> dict[str, float]:
        """One iteration: the batch of this step (drawn unless given), the recipe's step,
        the EMA update."""
        batch = self.training_batch(self.step) if batch is None else batch
        self._set_learning_rates()
        self.model.train()
        metrics = self.recipe.step(batch)
        self.step += 1
        self._update_ema()
        return metrics

    # ------------------------------------------------------------------ loop
    def train(self, max_steps: int | None = None) -> Path | None:
        """Train to the configured length (or ``max_steps`` more steps); return the exported model.

        Checkpoints every ``checkpoint_every`` steps and at the end; exports the final
        model (EMA weights when enabled) to ``output_dir/model``. Ctrl-C, SIGTERM or SIGHUP
        (in a single process) stop at the end of the current step with a checkpoint and
        raise :class:`TrainingInterrupted`; a second one stops at once.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        end = self.total_steps if max_steps is None else min(self.total_steps, self.step + max_steps)
        self.interrupted = False  # a trainer stopped by Ctrl-C continues when called again
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            _write_config(self.out / "config.yaml", cfg)
            atomic_write_text(self.out / PLUGINS_RECORD, json.dumps(self.plugins(), indent=2) + "\n")
        logger = MetricsLogger(self.out, resume_step=self.step) if self.dist.is_main else None
        # a progress bar on a terminal; in a log file (a batch job's), one line per logged step
        self._log_lines = self.progress and not sys.stderr.isatty()
        bar = tqdm(total=self.total_steps, initial=self.step, disable=not self.progress or self._log_lines,
                   unit="step", dynamic_ncols=True)
        try:
            with stop_at_step_end(lambda: setattr(self, "interrupted", True), enabled=self.dist.world_size == 1):
                self._loop(end, bar, logger)
        finally:
            bar.close()
            self.data.close()
            if logger is not None:
                logger.close()
        if self.interrupted and self.step < end:  # stopped early; a finished run is exported
            raise TrainingInterrupted(self.step, checkpointed=self.step > 0)
        if self.step >= self.total_steps and self.dist.is_main:
            return self.export(self.out / "model")
        return None

    def _loop(self, end: int, bar: Any, logger: MetricsLogger | None) -> None:
        cfg = self.config
        window_start, window_images = time.perf_counter(), 0
        while self.step < end and not self.interrupted:
            try:
                batch = self.training_batch(self.step)
            except Exception:
                # Ctrl-C also reaches the DataLoader workers (the terminal signals the whole
                # process group), which quit: the batch of this step was never drawn and the
                # state is the last step's, which the checkpoint keeps
                if not self.interrupted:
                    raise
                break
            metrics = self.train_step(batch)
            window_images += cfg.batch_size
            if not all(math.isfinite(v) for v in metrics.values()):
                raise TextEditError(
                    f"training diverged at step {self.step}: {metrics}; lower the learning rates "
                    f"or set optimizer.grad_clip, and resume from the last checkpoint"
                )
            bar.update(1)
            # logged at the run's own end, not a --max-steps stop: the logs of a stopped and
            # resumed run read as those of one that was not stopped
            if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                elapsed = time.perf_counter() - window_start
                rate = window_images / elapsed if elapsed > 0 else float("nan")
                window_start, window_images = time.perf_counter(), 0
                shown = {k: f"{metrics[m]:.4g}" for k, m in self.recipe.progress.items() if m in metrics}
                bar.set_postfix(**shown, img_s=f"{rate:.1f}")
                if self._log_lines:
                    fields = " ".join(f"{k}={v}" for k, v in shown.items())
                    print(f"step {self.step}/{self.total_steps} {fields} img/s={rate:.1f}", file=sys.stderr, flush=True)
                if logger is not None:
                    logger.log({"step": self.step, "images_per_s": rate, "time": time.time(), **metrics})
            if self.dist.is_main and self.step % cfg.sample_every == 0:
                self.save_samples()
            if self.step % cfg.checkpoint_every == 0 or self.step == end:
                self.checkpoint()
        if self.interrupted and self.step % cfg.checkpoint_every != 0 and self.step != end:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write a resumable checkpoint (rank 0; every rank waits for it)."""
        if self.dist.is_main:
            save_checkpoint(self.out / "checkpoints", self.step, self.state_dict(), keep=self.config.keep_checkpoints)
        self.dist.barrier()

    @contextlib.contextmanager
    def ema_weights(self) -> Iterator[nn.Module]:
        """The model with the EMA weights (and averaged batch-norm statistics) swapped in,
        restored afterwards."""
        if self.ema is None:
            yield self.model
            return
        live = [*self.ema_params, *self.ema_buffers]
        backup = [t.detach().clone() for t in live]
        with torch.no_grad():
            for t, e in zip(live, [*self.ema, *self.ema_buffer_values]):
                t.copy_(e)
        try:
            yield self.model
        finally:
            with torch.no_grad():
                for t, b in zip(live, backup):
                    t.copy_(b)

    def export(self, directory: Path) -> Path:
        """Save the model (EMA weights when enabled) with ``save_pretrained``; the run's
        ``export.json`` records the step it was exported at (``textedit.load`` of the run
        folder refuses an export the run has trained past since)."""
        with self.ema_weights() as model:
            exported = copy.deepcopy(model).cpu()
        exported.save_pretrained(directory)
        if directory == self.out / "model":
            atomic_write_text(self.out / EXPORT_RECORD, json.dumps({"step": self.step}) + "\n")
        return directory

    def save_samples(self) -> Path:
        """A grid of (input, coarse, fine, edit map) for fixed examples and descriptions."""
        path = self.out / "samples" / f"step_{self.step:08d}.png"
        with self.ema_weights() as model:
            sample_grid(model, self.data.sample_batch(self.config.num_samples, self.device), path)
        return path


@functools.cache
def _fused_adam_on_cpu() -> bool:
    """Whether this PyTorch has Adam's fused CPU kernel (2.4 and later): the bundled recipe's
    step is 3 % faster with it (406 against 418 ms median, one thread, 2-core EPYC)."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, ValueError):
        return False
    return True


def _check_groups(model: nn.Module, groups: dict[str, list[nn.Parameter]], recipe: str) -> None:
    """Every trainable parameter of ``model`` in exactly one group."""
    seen: dict[int, str] = {}
    for name, params in groups.items():
        for p in params:
            if id(p) in seen:
                raise TextEditError(f"{recipe} puts a parameter in both groups {seen[id(p)]!r} and {name!r}")
            seen[id(p)] = name
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in seen]
    if missing:
        raise TextEditError(f"{recipe} leaves parameters out of every optimiser: {missing[:5]}")


def _saved_vocabulary(checkpoint: dict[str, Any] | None) -> list[str] | None:
    return None if checkpoint is None else checkpoint.get("vocabulary")


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


#: settings that change what a run learns: resuming with other values is allowed (a new
#: data set to fine-tune on, say) but said, since the checkpoint's model and vocabulary stay
_LEARNED_FROM = ("model", "data", "recipe", "seed", "batch_size")
#: settings that change the order in which sums are rounded: a run resumed with another one
#: continues, but not bit for bit as the uninterrupted run would have
_NUMERICS = ("threads", "device", "mixed_precision", "channels_last", "compile", "fused_optimizer")
#: ... except those that change only how fast the data arrives
_SPEED_ONLY = ("data.num_workers", "data.prefetch_factor", "data.pin_memory")


def _warn_about_changes(saved: dict[str, Any] | None, config: TrainConfig) -> None:
    """Warn when a resumed run's config differs from its checkpoint's in what it learns from."""
    if not saved:
        return
    now = config.model_dump(mode="json")
    old = _flat({k: saved[k] for k in _LEARNED_FROM if k in saved})
    new = _flat({k: now.get(k) for k in _LEARNED_FROM})
    # the model spec is the user's (a key only one side has is a change); the other sections
    # are written whole, so a key the checkpoint lacks is a field its textedit did not have
    changed = [
        f"{k}: {old.get(k)!r} -> {new.get(k)!r}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k) and k not in _SPEED_ONLY and (k in old or k.startswith("model."))
    ]
    if changed:
        warnings.warn(
            f"resuming with another config than the checkpoint's ({'; '.join(changed[:6])}"
            f"{' ...' if len(changed) > 6 else ''}); the weights, the vocabulary and the "
            f"optimiser state come from the checkpoint",
            UserWarning,
            stacklevel=3,
        )
    numerics = [f"{k}: {saved[k]!r} -> {now.get(k)!r}" for k in _NUMERICS if k in saved and saved[k] != now.get(k)]
    if numerics:
        warnings.warn(
            f"resuming with other numerics than the run's ({'; '.join(numerics)}): it continues, but "
            f"sums are rounded in another order, so not bit for bit as the uninterrupted run; "
            f"resume with the run's settings for an exact continuation",
            UserWarning,
            stacklevel=3,
        )


def _warn_about_changed_inputs(saved: dict[str, str] | None, now: dict[str, str]) -> None:
    """Warn when a module the recipe reads from a file at start (a frozen DAMSM) holds other
    weights than when the run started: the run's loss is then another one."""
    changed = sorted(k for k in (saved or {}) if k in now and saved[k] != now[k])
    if changed:
        warnings.warn(
            f"the recipe's {', '.join(changed)} holds other weights than when this run started (its "
            f"file was replaced since): the resumed run trains against the new one",
            UserWarning,
            stacklevel=3,
        )


def _load_initial_weights(model: nn.Module, init_from: str, partial: bool = False) -> None:
    """Copy the weights of the trained model ``init_from`` into ``model`` (a fine-tuning run's
    start): every weight, which must fit exactly, or with ``partial`` those whose names and
    shapes fit, the rest keeping their fresh initialisation (named in a warning)."""
    trained = load(init_from)
    if type(trained) is not type(model):
        raise ConfigError([(
            "init_from", f"{init_from} is a {type(trained).__name__} model and this config builds a "
            f"{type(model).__name__}: fine-tune a model of the same kind (leave `model` out, or give "
            f"only the fields to change, without a type)",
        )], source="the training config")
    ours_words, their_words = (getattr(getattr(m, "text_encoder", None), "vocabulary", None) for m in (model, trained))
    if ours_words is not None and their_words is not None and list(ours_words.words) != list(their_words.words):
        raise ConfigError([(
            "init_from", f"the text encoder's vocabulary ({len(ours_words)} words) is not the one "
            f"{init_from} learnt its word embeddings with ({len(their_words)} words): leave "
            f"model.text_encoder.vocabulary out to keep the trained model's",
        )], source="the training config")
    ours, theirs = model.state_dict(), trained.state_dict()
    fits = {k: v for k, v in theirs.items() if k in ours and ours[k].shape == v.shape}
    fresh = sorted(set(ours) - set(fits))
    if fresh or len(fits) < len(theirs):
        missing = sorted(set(ours) - set(theirs))
        unexpected = sorted(set(theirs) - set(ours))
        shapes = sorted(k for k in set(ours) & set(theirs) if ours[k].shape != theirs[k].shape)
        found = ", ".join(
            f"{what} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for what, keys in (("missing:", missing), ("not in this model:", unexpected), ("other shapes:", shapes))
            if keys
        )
        if not partial or not fits:
            hint = (
                "no weight fits" if partial else
                f"leave `model` out to fine-tune {init_from} as it is, or set init_partial: true to "
                f"copy the weights that fit and initialise the rest afresh"
            )
            raise ConfigError([(
                "init_from", f"the weights of {init_from} do not fit the model this config builds ({found}); {hint}",
            )], source="the training config")
        per_slot = Counter(key.split(".", 1)[0] for key in ours)
        fresh_per_slot = Counter(key.split(".", 1)[0] for key in fresh)
        slots = ", ".join(f"{slot} ({n} of {per_slot[slot]} tensors)" for slot, n in fresh_per_slot.items())
        warnings.warn(
            f"init_partial: {len(fits)} of {len(ours)} weights copied from {init_from}; freshly "
            f"initialised: {slots or 'none'}"
            + (f"; not used: {len(theirs) - len(fits)} of its weights" if len(fits) < len(theirs) else ""),
            UserWarning,
            stacklevel=4,
        )
    model.load_state_dict({**ours, **{k: v.to(ours[k].dtype) for k, v in fits.items()}})


def plugin_hint(run_dir: str | Path) -> str:
    """What to install to resume the run in ``run_dir``: a sentence naming each plug-in
    package of its :data:`PLUGINS_RECORD` that is not installed at the version the run
    started with, or ``""``."""
    from importlib import metadata

    try:
        recorded = json.loads((Path(run_dir) / PLUGINS_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    wanted = {}  # distribution -> the version the run started with
    for item in recorded if isinstance(recorded, list) else []:
        if not (isinstance(item, dict) and item.get("version") and item.get("distribution")):
            continue  # registered in code (no version): nothing to install
        try:
            installed = metadata.version(item["distribution"])
        except (metadata.PackageNotFoundError, ValueError):
            installed = None
        if installed != item["version"]:
            wanted[item["distribution"]] = item["version"]
    if not wanted:
        return ""
    lines = " ".join(f"'{d}=={v}'" for d, v in sorted(wanted.items()))
    return f" This run was started with plug-ins that are not installed at its versions: pip install {lines}"


def _write_config(path: Path, config: TrainConfig) -> None:
    write_config_file(path, config.model_dump(mode="json"))
