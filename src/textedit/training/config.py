"""The training config: one YAML file validated by pydantic (``textedit train --config``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["TrainConfig", "OptimizerConfig", "LossWeights", "TrainDataConfig", "find_config", "shipped_configs"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptimizerConfig(_Strict):
    """Adam for both players, as in the paper (β₁ = 0.5 is our choice)."""

    lr_generator: float = Field(2e-4, gt=0, description="Learning rate of every generator-side slot.")
    lr_discriminator: float = Field(2e-4, gt=0, description="Learning rate of the discriminator.")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁.")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂.")
    weight_decay: float = Field(0.0, ge=0, description="Adam weight decay.")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm of each step to this value (None: off).")
    schedule: Literal["constant", "cosine"] = Field(
        "constant",
        description="Learning-rate schedule of both optimisers: constant (the paper), or a linear warm-up over warmup_steps then a cosine decay to 0 at the last step.",
    )
    warmup_steps: int = Field(0, ge=0, description="Warm-up steps of the cosine schedule.")


class LossWeights(_Strict):
    """The λ of spec section 6."""

    reconstruction: float = Field(10.0, ge=0, description="λ₂: L1 reconstruction at every stage (reconstruction stage).")
    pseudo_ground_truth: float = Field(1.0, ge=0, description="λ₃: ‖W_g g − p‖₁ between global texture and TLU-pooled features.")
    random_memory: float = Field(1.0, ge=0, description="λ₄: −log D_r of images made from random convex memory weights.")
    generator_conformity: float = Field(10.0, ge=0, description="λ₁: −log D_c(G(x, t̂), t̂) in the generator's adversarial step.")
    discriminator_conformity: float = Field(10.0, ge=0, description="λ_c: the text-conformity terms of the discriminator loss.")
    manipulation_l1: float = Field(0.0, ge=0, description="Optional L1 between G(x, t̂) and x in the adversarial step (TAGAN's content term; 0 = as the spec).")
    true_edit: float = Field(
        0.0,
        ge=0,
        description="Optional L1 between G(x, t̂) and the renderer's true edit of x by t̂ at every stage, in the generator's adversarial step: paired supervision that only generated data has (a deviation from the paper's unpaired objective; 0 = as the spec).",
    )
    edit_region: float = Field(
        0.0,
        ge=0,
        description="Optional L1 between G(x, t̂) and the true edit inside the region the true edit changes, averaged over that region (generated data only): the whole-image true_edit L1 is dominated by the ~98% of pixels that must not change, and its cheapest minimiser ignores the text; 0 = off.",
    )
    edit_region_weighting: Literal["pixel", "part"] = Field(
        "pixel",
        description="How edit_region averages over the changed region: pixel (every changed pixel alike) or part (every changed part alike, so that a beak grown by a few pixels counts as much as a recoloured body).",
    )
    edit_mask: float = Field(
        0.0,
        ge=0,
        description="Optional binary cross-entropy between a compositing generator's edit mask (its localization at the output's size) and where the true edit differs from the input, changed and unchanged pixels weighed alike (generated data only): it teaches the mask where to edit directly instead of through the L1 losses, under which it shuts everywhere early in training; 0 = off.",
    )
    discriminator_stages: tuple[float, ...] | None = Field(None, description="λ_{D,s} per stage (None: 1 for every stage).")

    def paired(self) -> list[str]:
        """The paired losses switched on (those that need the true edits of generated data)."""
        return [n for n in ("true_edit", "edit_region", "edit_mask") if getattr(self, n) > 0]


class TrainDataConfig(_Strict):
    """Which data to train on (see ``textedit.data`` for the layouts)."""

    type: Literal["synthetic", "folder", "cub", "oxford102"] = Field(
        "synthetic", description="synthetic: rendered on the fly; folder: the generic layout (also what `textedit data generate` writes); cub / oxford102: the real data sets."
    )
    root: Path | None = Field(None, description="Data folder (all types but synthetic).")
    family: Literal["birds", "flowers"] = Field("birds", description="Synthetic family.")
    num_images: int = Field(20000, gt=0, description="Synthetic: images in the training set.")
    data_seed: int = Field(0, description="Synthetic: seed of the rendered data set.")
    split: str = Field("train", description="Split to train on.")
    sample_split: str | None = Field("test", description="Split to draw the fixed sample grid from (None: the training split).")
    strict: bool = Field(False, description="Fail on the first corrupt or missing image instead of skipping it.")
    flip: bool = Field(True, description="Random horizontal flips.")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes.")
    vocabulary_min_count: int = Field(1, ge=1, description="Keep words seen at least this often in the training captions.")
    reword: float = Field(0.0, ge=0.0, le=1.0, description="Synthetic: probability of rewording a caption (commands, requests, relative clauses, compound adjectives, terse lists) with the same meaning; paraphrase augmentation for hand-written descriptions.")

    @model_validator(mode="after")
    def _root(self) -> "TrainDataConfig":
        if self.type != "synthetic" and self.root is None:
            raise ValueError(f"data.root is required for data.type={self.type!r}")
        if self.type != "synthetic" and self.reword:
            raise ValueError("data.reword rewrites generated descriptions; it needs data.type=synthetic")
        return self


class TrainConfig(_Strict):
    """Everything ``textedit train`` needs; the shipped ones are in ``textedit/configs/`` and are named by ``--config NAME``."""

    model: dict[str, Any] = Field(
        default_factory=lambda: {"type": "mimnet_64"},
        description="Model spec for textedit.create_model: a preset or composition `type` plus overrides.",
    )
    data: TrainDataConfig = Field(default_factory=TrainDataConfig, description="Training data.")
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig, description="Optimisers.")
    losses: LossWeights = Field(default_factory=LossWeights, description="Loss weights.")
    batch_size: int = Field(16, gt=0, description="Global batch size (split across processes under torchrun).")
    steps: int | None = Field(None, gt=0, description="Training iterations (one reconstruction + one adversarial step each); give this or epochs.")
    epochs: float | None = Field(None, gt=0, description="Training length in passes over the training split (the paper's unit); give this or steps.")
    seed: int = Field(0, description="Seed of model initialisation, data order and sampling.")
    output_dir: Path = Field(Path("runs/train"), description="Run folder: checkpoints, logs, samples, final model.")
    checkpoint_every: int = Field(500, gt=0, description="Write a resumable checkpoint every N steps.")
    keep_checkpoints: int | None = Field(3, gt=0, description="Keep the N newest checkpoints (None: all).")
    log_every: int = Field(10, gt=0, description="Log metrics every N steps.")
    sample_every: int = Field(500, gt=0, description="Save a sample grid every N steps.")
    num_samples: int = Field(6, gt=0, description="Examples in the sample grid.")
    ema_decay: float | None = Field(0.999, gt=0, lt=1, description="EMA decay of the generator-side weights (None: off); the exported model uses the EMA.")
    mixed_precision: Literal["no", "bf16", "fp16"] = Field(
        "no", description="Autocast: bf16 or fp16 on CUDA; bf16 on a CPU with native bf16 arithmetic (AVX512-BF16 or AMX), where it is about 2x faster; otherwise ignored with a warning (half precision is far slower on other CPUs)."
    )
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'.")
    threads: int | None = Field(None, gt=0, description="torch intra-op threads on the CPU (None: torch's default).")
    memory_updates: Literal["reconstruction", "every_step"] = Field(
        "reconstruction",
        description="When the memories learn: only in the reconstruction step (the paper), or in the adversarial step's generator update too, where the paired losses live.",
    )
    channels_last: bool = Field(False, description="Train in the channels-last memory format (faster convolutions on recent CPUs and GPUs; same results up to rounding).")

    @model_validator(mode="after")
    def _length(self) -> "TrainConfig":
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one of steps and epochs")
        paired = self.losses.paired()
        if paired and self.data.type != "synthetic":
            raise ValueError(
                f"losses.{paired[0]} needs the true edited images that only generated data has; "
                f"data.type is {self.data.type!r}: set losses.{paired[0]} to 0 or train on data.type: synthetic"
            )
        return self

    def total_steps(self, num_images: int) -> int:
        """Iterations of the run for a training split of ``num_images`` images."""
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil(self.epochs * num_images / self.batch_size))

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value != "auto" and not (value == "cpu" or value.startswith("cuda")):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {value!r}")
        return value


def shipped_configs() -> list[str]:
    """Names of the training configs that ship with textedit (``textedit/configs``)."""
    folder = Path(__file__).resolve().parents[1] / "configs"
    return sorted(p.stem for p in folder.glob("*.yaml"))


def find_config(name_or_path: str | Path) -> Path:
    """A config file: the path if it exists, else the shipped config of that name."""
    from textedit.errors import ConfigError

    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = Path(__file__).resolve().parents[1] / "configs" / f"{path.stem}.yaml"
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    raise ConfigError(
        [("", f"no config file {str(name_or_path)!r}; shipped configs: {', '.join(shipped_configs())}")]
    )
