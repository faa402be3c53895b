"""The training config: one YAML file validated by pydantic (``textedit train --config``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator, model_validator

from textedit.config.base import SlotSpec
from textedit.data.packed import read_packed_manifest
from textedit.data.synthetic import SyntheticSpec
from textedit.errors import ConfigError, TextEditError
from textedit.pretrained import model_folder
from textedit.registry.api import resolve_model_config
from textedit.registry.kinds import MODEL_KIND, get_registry
from textedit.registry.presets import merge_overrides
from textedit.serialization import read_composition_config
from textedit.utils.device import check_device_name

__all__ = ["TrainConfig", "OptimizerConfig", "TrainDataConfig", "find_config", "shipped_configs"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptimizerConfig(_Strict):
    """One Adam per parameter group of the recipe (``generator`` and ``discriminator`` for
    the GAN recipes), as in the papers (β₁ = 0.5)."""

    lr_generator: float = Field(2e-4, gt=0, description="Learning rate of the recipe's generator group (every generator-side slot).")
    lr_discriminator: float = Field(2e-4, gt=0, description="Learning rate of the recipe's discriminator group.")
    learning_rates: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="Learning rates of other parameter groups a recipe declares, by group name (also overrides lr_generator / lr_discriminator when it names those groups).",
    )
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β₁.")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam β₂.")
    weight_decay: float = Field(0.0, ge=0, description="Adam weight decay.")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm of each step to this value (None: off).")
    schedule: Literal["constant", "cosine"] = Field(
        "constant",
        description="Learning-rate schedule of both optimisers: constant (the paper), or a linear warm-up over warmup_steps then a cosine decay to 0 at the last step.",
    )
    warmup_steps: int = Field(0, ge=0, description="Warm-up steps of the cosine schedule.")

    def learning_rate(self, group: str) -> float:
        """The base learning rate of a recipe's parameter group."""
        if group in self.learning_rates:
            return self.learning_rates[group]
        if group in ("generator", "discriminator"):
            return getattr(self, f"lr_{group}")
        raise ConfigError([(f"optimizer.learning_rates.{group}", f"the recipe has a parameter group {group!r}; give its learning rate")])


class TrainDataConfig(_Strict):
    """Which data to train on (see ``textedit.data`` for the layouts)."""

    type: Literal["synthetic", "packed", "folder", "cub", "oxford102"] = Field(
        "synthetic", description="synthetic: rendered on the fly; packed: a folder written by `textedit data pack` (images, and true edits of generated data, already drawn: the fast path); folder: the generic layout (also what `textedit data generate` writes); cub / oxford102: the real data sets."
    )
    root: Path | None = Field(None, description="Data folder (all types but synthetic).")
    image_dir: Path | None = Field(None, description="oxford102 (Reed's caption layout): the images' folder, when it is not beside the captions (None: looked for there).")
    family: Literal["birds", "flowers"] = Field("birds", description="Synthetic family.")
    num_images: int = Field(20000, gt=0, description="Synthetic: images in the training set.")
    data_seed: int = Field(0, ge=0, description="Synthetic: seed of the rendered data set.")
    split: str = Field("train", description="Split to train on.")
    sample_split: str | None = Field("test", description="Split to draw the fixed sample grid from (None: the training split).")
    strict: bool = Field(False, description="Fail on the first corrupt or missing image instead of skipping it.")
    flip: bool = Field(True, description="Random horizontal flips.")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes (they live for the whole run: the loader streams one endless epoch).")
    prefetch_factor: int = Field(2, ge=1, description="Batches each worker prepares ahead (with num_workers > 0).")
    pin_memory: bool | None = Field(None, description="Page-locked batches for faster, asynchronous copies to the GPU (None: on when training on CUDA).")
    vocabulary_min_count: int = Field(1, ge=1, description="Keep words seen at least this often in the training captions.")
    reword: float = Field(0.0, ge=0.0, le=1.0, description="Synthetic: probability of rewording a caption (commands, requests, relative clauses, compound adjectives, terse lists) with the same meaning; paraphrase augmentation for hand-written descriptions.")

    def generated_spec(self) -> SyntheticSpec | None:
        """The generated data set this config trains on (drawn on the fly, or the source of a
        packed one), or None for real or folder data."""
        if self.type == "synthetic":
            return SyntheticSpec(family=self.family, n=self.num_images, seed=self.data_seed)
        if self.type == "packed":
            source = read_packed_manifest(self.root).get("source") or {}
            return SyntheticSpec(**source["spec"]) if source.get("type") == "generated" else None
        return None

    @model_validator(mode="after")
    def _root(self) -> "TrainDataConfig":
        if self.type != "synthetic" and self.root is None:
            raise ValueError(f"data.root is required for data.type={self.type!r}")
        if self.image_dir is not None and self.type != "oxford102":
            raise ValueError(f"data.image_dir is read by data.type oxford102 only, not {self.type!r}")
        if self.type not in ("synthetic", "packed") and self.reword:
            raise ValueError("data.reword rewrites generated descriptions; it needs data.type synthetic or packed")
        return self


def saved_model_spec(init_from: Any) -> dict[str, Any]:
    """The model spec (``type`` and the full config) of the trained model ``init_from`` names,
    read without its weights."""
    try:
        composition, config = read_composition_config(model_folder(str(init_from)))
    except TextEditError as exc:
        raise ConfigError([("init_from", str(exc))]) from None
    name = get_registry(MODEL_KIND).public_name(get_registry(MODEL_KIND).entry_for(composition))
    return {"type": name, **json.loads(json.dumps(config.to_dict()))}


class TrainConfig(_Strict):
    """Everything ``textedit train`` needs; the shipped ones are in ``textedit/configs/`` and are named by ``--config NAME``."""

    model: dict[str, Any] = Field(
        default_factory=lambda: {"type": "mimnet_64"},
        description="Model spec for textedit.create_model: a preset or composition `type` plus overrides.",
    )
    init_from: str | None = Field(
        None,
        description="Fine-tune: start from the weights of a trained model (a bundled name such as mimnet64_birds, a folder written by save_pretrained, or a training run). `model` left out: that model's architecture and vocabulary; `model` without a `type`: overrides of it (`{localizer: {type: everywhere}}`); with a `type`: the whole spec. Read when the run starts, not on --resume.",
    )
    init_partial: bool = Field(
        False,
        description="With init_from: copy only the weights whose names and shapes fit the model this config builds and keep the rest freshly initialised (a changed slot), naming them in a warning; False: every weight must fit.",
    )
    data: TrainDataConfig = Field(default_factory=TrainDataConfig, description="Training data.")
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig, description="Optimisers.")
    recipe: SlotSpec("recipe") = Field(
        None,
        description="The training recipe: `{type: <registered recipe>, ...its fields}` (loss weights and options; see `textedit components --kind recipe`). Left out, or without `type`: the model's default recipe.",
    )
    batch_size: int = Field(16, gt=0, description="Global batch size (split across processes under torchrun).")
    steps: int | None = Field(None, gt=0, description="Training iterations (one step of the recipe each: MIM-Net's is a reconstruction and an adversarial step); give this or epochs.")
    epochs: float | None = Field(None, gt=0, description="Training length in passes over the training split (the paper's unit); give this or steps.")
    seed: int = Field(0, ge=0, description="Seed of model initialisation, data order and sampling.")
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
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:N' or 'mps' (Apple silicon).")
    threads: int | None = Field(None, gt=0, description="torch intra-op threads on the CPU (None: torch's default).")
    channels_last: bool = Field(False, description="Train in the channels-last memory format (faster convolutions on recent CPUs and GPUs; same results up to rounding).")
    compile: bool = Field(False, description="torch.compile every component (Composition.compile_components): the first steps compile (minutes), later ones run fused code; same results up to rounding. Needs a C++ compiler on the CPU.")
    fused_optimizer: bool | None = Field(None, description="Adam's fused kernel, one launch for all parameters of a group (None: on for CUDA, and for the CPU where PyTorch has the kernel, 2.4 and later; False: the per-tensor loop).")

    @model_validator(mode="before")
    @classmethod
    def _recipe_type(cls, data: Any) -> Any:
        """Fill in the recipe's type from the model; merge the top-level ``losses`` and
        ``memory_updates`` of configs written before recipes existed into the recipe."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        legacy = {k: data.pop(k) for k in ("losses", "memory_updates") if k in data}
        recipe = data.get("recipe")
        if recipe is None:
            recipe = {}
        if isinstance(recipe, str):
            recipe = {"type": recipe}
        if legacy and isinstance(recipe, dict):
            recipe = merge_overrides(recipe, legacy)
        model = data.get("model")
        if data.get("init_from") is not None and (model is None or (isinstance(model, dict) and "type" not in model)):
            data["model"] = merge_overrides(saved_model_spec(data["init_from"]), model or {})
        # the model is checked here, with the config's other fields, so that its errors
        # carry their full path (model.generator.channels) and the config file's name
        try:
            composition, _ = resolve_model_config(data.get("model") or cls.model_fields["model"].default_factory())
        except ConfigError as exc:
            raise exc.under("model") from None
        except TextEditError as exc:  # an unknown model or preset
            raise ConfigError([("model", str(exc))]) from None
        if isinstance(recipe, dict) and "type" not in recipe:
            recipe = {"type": getattr(composition, "default_recipe", None), **recipe}
        data["recipe"] = recipe
        return data

    @model_validator(mode="after")
    def _length(self) -> "TrainConfig":
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(
                "give exactly one of steps and epochs (set the other to null; on the command "
                "line, steps=N replaces a config's epochs and epochs=N its steps)"
            )
        paired = self.recipe.config.true_edit_losses()
        if paired and self.data.type not in ("synthetic", "packed"):
            raise ValueError(
                f"recipe.{paired[0]} needs the true edited images that only generated data has; "
                f"data.type is {self.data.type!r}: set recipe.{paired[0]} to 0 or train on data.type "
                f"synthetic (or packed, from `textedit data pack --edits-per-image K`)"
            )
        return self

    def true_edits_needed(self) -> bool:
        """Whether the recipe's losses read the true edits of generated data."""
        return bool(self.recipe.config.true_edit_losses())

    def total_steps(self, num_images: int) -> int:
        """Iterations of the run for a training split of ``num_images`` images."""
        if self.steps is not None:
            return self.steps
        return max(1, math.ceil(self.epochs * num_images / self.batch_size))

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        return check_device_name(value)


def shipped_configs() -> list[str]:
    """Names of the training configs that ship with textedit (``textedit/configs``)."""
    folder = Path(__file__).resolve().parents[1] / "configs"
    return sorted(p.stem for p in folder.glob("*.yaml"))


def find_config(name_or_path: str | Path) -> Path:
    """A config file: the path if it exists, else the shipped config of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = Path(__file__).resolve().parents[1] / "configs" / f"{path.stem}.yaml"
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    raise ConfigError(
        [("", f"no config file {str(name_or_path)!r}; shipped configs: {', '.join(shipped_configs())}")]
    )
