"""Recipe: how one model family trains, registered by name like every component.

Shape legend: ``b`` batch, ``H`` the model's input size.

A recipe owns a model family's objective: its losses and their weights (its config), which
parameters each optimiser holds (:meth:`Recipe.parameter_groups`), which of them the EMA
averages, and the passes of one iteration (:meth:`Recipe.step`). The trainer
(:class:`textedit.training.Trainer`) keeps what every recipe shares: the data stream,
one Adam per parameter group with its learning-rate schedule, gradient averaging across
``torchrun`` processes and clipping, autocast, the EMA, exact resume, logging, sample grids
and export. A recipe reaches those through the :class:`TrainingContext` it is given.

A training config names its recipe as ``recipe: {type: <name>, ...fields}``; without a
``type`` the model's :attr:`~textedit.interfaces.model.EditingModel.default_recipe` trains it.
Plug-ins register recipes in the entry-point group ``textedit.recipes``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import torch
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import TextEditError

__all__ = ["Recipe", "RecipeConfig", "TrainingBatch", "TrainingContext", "adversarial_groups", "frozen"]


class RecipeConfig(ComponentConfig):
    """Base of a recipe's config (loss weights and options); every field is described."""

    def true_edit_losses(self) -> list[str]:
        """Names of the switched-on losses that need the true edits only generated data has."""
        return []


@dataclass
class TrainingBatch:
    """One process's share of a step, on the training device.

    Attributes:
        image: ``(b, 3, H, H)`` real images in ``[-1, 1]``.
        tokens: their own descriptions, tokenised by the model.
        mismatched_tokens: descriptions of other images (what an edit is asked to do).
        seeds: one seed per row for a recipe's random draws, so a row's draw does not depend
            on the batch it sits in.
        mismatched_target: ``(b, 3, H, H)`` the true edits by the mismatched descriptions
            (generated data, when the recipe asks for them; else None).
        mismatched_weight: ``(b, 1, H, H)`` weights giving every changed part of those edits
            the same total (with ``mismatched_target``).
    """

    image: Tensor
    tokens: Any
    mismatched_tokens: Any
    seeds: list[int]
    mismatched_target: Tensor | None = None
    mismatched_weight: Tensor | None = None


class TrainingContext(Protocol):
    """What the trainer offers a recipe."""

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """The run's autocast context (a no-op without mixed precision)."""

    def update(self, group: str, loss: Tensor) -> None:
        """Zero the gradients of parameter group ``group``, back-propagate ``loss``, average
        the gradients across processes, clip them and step that group's optimiser."""


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


def adversarial_groups(model: Any) -> dict[str, list[nn.Parameter]]:
    """The parameter groups of a GAN recipe: ``discriminator`` (the slot of that name) and
    ``generator`` (every other slot, in slot order)."""
    slots = model.components()
    return {
        "generator": [p for slot, c in slots.items() if slot != "discriminator" for p in c.parameters()],
        "discriminator": list(slots["discriminator"].parameters()),
    }


class Recipe(ABC):
    """Abstract training recipe; see the module docstring.

    Args:
        config: the recipe's validated config.
        model: the model it trains (checked against :attr:`trains`).
        context: the trainer's services.

    Attributes:
        config_class: the pydantic config of this recipe.
        trains: the model classes it can train (a clear error otherwise).
        discriminator_scores: the :class:`~textedit.interfaces.discriminator.DiscriminatorOutput`
            fields its losses read (``reality``, ``conformity``, ``matching``); the model's
            discriminator is tried once on its example inputs when the recipe is built, and
            one that lacks any of them is refused then, not at the first step.
        progress: progress-bar label -> metric name, shown while training.
    """

    config_class: ClassVar[type[RecipeConfig]]
    trains: ClassVar[tuple[type, ...]] = ()
    discriminator_scores: ClassVar[tuple[str, ...]] = ()
    progress: ClassVar[dict[str, str]] = {}

    def __init__(self, config: RecipeConfig, model: nn.Module, context: TrainingContext):
        if self.trains and not isinstance(model, self.trains):
            names = ", ".join(t.__name__ for t in self.trains)
            raise TextEditError(
                f"the {type(self).__name__} trains {names} models, not a {type(model).__name__}; "
                f"name the model's own recipe in the training config (recipe: {{type: ...}}) or "
                f"leave recipe.type out to use the model's default"
            )
        self.config = config
        self.model = model
        self.context = context
        if self.discriminator_scores:
            self._check_discriminator_scores()

    def _check_discriminator_scores(self) -> None:
        """Raise unless the model's discriminator gives every score of
        :attr:`discriminator_scores` (tried once, without gradients, in eval mode so that
        no running statistic moves)."""
        discriminator = getattr(self.model, "discriminator", None)
        if discriminator is None:
            return
        was_training = discriminator.training
        try:
            discriminator.eval()
            # eager even when compiled (compile: true): a probe is not worth a compilation
            with torch.no_grad(), torch.compiler.set_stance("force_eager"):
                out = discriminator(**discriminator.example_inputs(batch_size=2))
        except Exception as err:
            raise TextEditError(
                f"the {type(self).__name__} could not try the model's discriminator "
                f"{type(discriminator).__name__} on its example inputs: {err}"
            ) from err
        finally:
            discriminator.train(was_training)
        missing = [name for name in self.discriminator_scores if not getattr(out, name, None)]
        if missing:
            given = [f.name for f in dataclasses.fields(out) if getattr(out, f.name)]
            raise TextEditError(
                f"the {type(self).__name__} reads the discriminator's {' and '.join(self.discriminator_scores)} "
                f"scores, and {type(discriminator).__name__} gives {' and '.join(given) or 'none of them'}: "
                f"use a discriminator that gives {' and '.join(missing)} (textedit components --kind "
                f"discriminator; see DiscriminatorOutput) or the recipe of a model built for this one"
            )

    @abstractmethod
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Group name -> the parameters one optimiser updates (``generator``,
        ``discriminator``, ...); the learning rate of group ``g`` is the training config's
        ``optimizer.lr_g`` or ``optimizer.learning_rates[g]``. Every parameter of the model
        is in exactly one group; the trainer leaves out those that do not require gradients
        (a ``frozen`` text encoder's), from the optimisers and the EMA alike."""

    def ema_parameters(self) -> list[nn.Parameter]:
        """The parameters the EMA averages and the exported model takes from it: by default
        every group but ``discriminator`` (what editing uses)."""
        return [p for name, ps in self.parameter_groups().items() if name != "discriminator" for p in ps]

    def ema_buffers(self) -> list[Tensor]:
        """The buffers the EMA averages beside :meth:`ema_parameters`, so that the exported
        model's batch-norm running statistics belong to its averaged weights: by default the
        running mean and variance of every batch norm outside the ``discriminator`` slot."""
        return [
            stat
            for slot, component in self.model.components().items()
            if slot != "discriminator"
            for m in component.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
            for stat in (m.running_mean, m.running_var)
        ]

    @abstractmethod
    def step(self, batch: TrainingBatch) -> dict[str, float]:
        """One training iteration on ``batch``: every pass and update; returns the metrics
        to log (finite floats)."""
