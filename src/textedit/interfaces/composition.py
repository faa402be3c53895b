"""Composition: a model made of named component slots.

A composition's config (a :class:`~textedit.config.CompositionConfig`) holds one
``{"type": ...}`` spec per slot plus the composition's own fields. Building it builds every
slot through the registries; :meth:`Composition.build_components` is where a composition
wires dimensions from one slot into another (e.g. the text encoder's width into the memory
bank's). After building, :attr:`Composition.config` holds each slot's *resolved* config, so
saving and reloading rebuilds exactly the same architecture.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from textedit.config.base import ComponentSpec, CompositionConfig, validate_config
from textedit.errors import ConfigError, TextEditError
from textedit.interfaces.component import Component
from textedit.layers.memory_format import weights_format
from textedit.registry.api import create_component
from textedit.registry.kinds import get_registry
from textedit.registry.presets import Preset, merge_overrides
from textedit.serialization import load_composition, save_composition

__all__ = ["Composition", "Preset", "SlotBuilder", "merge_overrides", "spec_of", "wire"]

M = TypeVar("M", bound="Composition")


class Composition(nn.Module, metaclass=ABCMeta):
    """Base of models made of component slots (MIM-Net, TAGAN, ...).

    Args:
        config: the composition config, or a mapping validated against :attr:`config_class`.
        components: already-built components for some slots (e.g. a pretrained text
            encoder); the other slots are built from their specs.
    """

    config_class: ClassVar[type[CompositionConfig]]

    def __init__(
        self,
        config: CompositionConfig | Mapping[str, Any] | None = None,
        components: Mapping[str, Component] | None = None,
    ):
        super().__init__()
        config = validate_config(self.config_class, config if config is not None else {})
        given = dict(components or {})
        self._check_slots(config, given)
        built = self.build_components(config, given)
        self._check_slots(config, built)
        resolved: dict[str, ComponentSpec] = {}
        for slot in config.slot_kinds:
            component = built[slot]
            self.add_module(slot, component)
            resolved[slot] = spec_of(component, config.slot(slot))
        self.config = config.model_copy(update=resolved)

    @classmethod
    def _check_slots(cls, config: CompositionConfig, components: Mapping[str, Any]) -> None:
        """Every slot named exists and gets a component of its kind."""
        unknown = set(components) - set(config.slot_kinds)
        if unknown:
            raise TextEditError(f"{cls.__name__} has no slot(s) {sorted(unknown)}; slots: {list(config.slot_kinds)}")
        for slot, component in components.items():
            kind = config.slot_kinds[slot]
            if not isinstance(component, Component) or component.kind != kind:
                raise TextEditError(
                    f"slot {slot!r} of {cls.__name__} needs a {kind} (build one with "
                    f"textedit.create_{kind}(...)), got {type(component).__name__}"
                )

    @classmethod
    def build_components(
        cls, config: CompositionConfig, given: dict[str, Component]
    ) -> dict[str, Component]:
        """Build every slot not in ``given`` from its spec, in slot order.

        Override to pass one slot's dimensions into another's config before building it,
        with a :class:`SlotBuilder` and :func:`wire`:
        ``text = build("text_encoder")``, then
        ``build("generator", wire(config.generator, word_dim=text.word_dim))``.
        """
        build = SlotBuilder(config, given)
        for slot in config.slot_kinds:
            build(slot)
        return build.built

    @classmethod
    def from_config(cls: type[M], config: CompositionConfig | Mapping[str, Any] | None = None) -> M:
        """Build with fresh weights."""
        return cls(config)

    def components(self) -> dict[str, Component]:
        """Slot name -> component."""
        return {slot: getattr(self, slot) for slot in self.config.slot_kinds}

    def with_components(self: M, **components: Component) -> M:
        """A new composition sharing this one's components except those given (a variant).

        The given components are moved (in place, as ``nn.Module.to`` does) to this model's
        device, dtype and memory format, and the variant is in this model's train/eval mode.
        """
        self._check_slots(self.config, components)
        device, dtype, layout = self.device, self.dtype, self.memory_format
        for component in components.values():
            component.to(device=device, dtype=dtype)
            if layout == torch.channels_last:
                component.to(memory_format=layout)
        kept = {**self.components(), **components}
        config = self.config.model_copy(update={s: spec_of(c) for s, c in components.items()})
        return type(self)(config, kept).train(self.training)

    def compile_components(self: M, **options: Any) -> M:
        """Compile every component's ``forward`` in place with ``torch.compile(**options)``
        (``nn.Module.compile``); weights, state-dict keys and saving are unchanged.

        The first call of each component at a new input shape compiles it (about a minute on
        a CPU for a MIM-Net preset); later calls run the compiled code. Returns ``self``.
        """
        for component in self.components().values():
            component.compile(**options)
        return self

    @property
    def device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """Dtype of the first floating parameter (float32 for a model without any): what
        :meth:`~textedit.interfaces.model.EditingModel.edit` casts its inputs to."""
        for tensor in self.parameters():
            if tensor.is_floating_point():
                return tensor.dtype
        return torch.float32

    @property
    def memory_format(self) -> torch.memory_format:
        """``torch.channels_last`` when the model's convolution weights are laid out
        channels-last (after ``model.to(memory_format=torch.channels_last)``), else
        ``torch.contiguous_format``: the layout its image inputs should arrive in, since a
        convolution converts an input of the other layout on every call."""
        return weights_format(self)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def save_pretrained(
        self, directory: str | Path, *, overwrite: bool = True, dtype: torch.dtype | None = None
    ) -> Path:
        """Write ``model_index.json`` and one folder per slot (each a saved component) to
        ``directory``, atomically; ``overwrite`` and ``dtype`` as in
        :meth:`Component.save_pretrained <textedit.interfaces.component.Component.save_pretrained>`."""
        return save_composition(self, directory, overwrite=overwrite, dtype=dtype)

    @classmethod
    def from_pretrained(
        cls: type[M], directory: str | Path, map_location: str | torch.device = "cpu"
    ) -> M:
        """Load a composition written by :meth:`save_pretrained`."""
        model = load_composition(directory, map_location=map_location)
        if not isinstance(model, cls):
            raise TextEditError(
                f"{directory} holds a {type(model).__qualname__}, not a {cls.__qualname__}"
            )
        return model


class SlotBuilder:
    """Builds a composition's slots one at a time, keeping the components already given.

    Args:
        config: the composition config.
        given: slot -> an already-built component (used as is).

    Attributes:
        built: slot -> component, every slot built or given so far.
    """

    def __init__(self, config: CompositionConfig, given: Mapping[str, Component]):
        self.config = config
        self.built: dict[str, Component] = dict(given)

    def __call__(self, slot: str, spec: ComponentSpec | None = None) -> Component:
        """The component of ``slot``: the given one, else one built from ``spec`` (default:
        the slot's spec in the config).

        Raises:
            ConfigError: a given component disagrees with a field ``spec`` wires in from the
                other slots (a width), which would fail only at the first forward pass.
        """
        if slot not in self.built:
            spec = spec if spec is not None else self.config.slot(slot)
            self.built[slot] = create_component(self.config.slot_kinds[slot], spec)
        elif spec is not None:
            self._check_wiring(slot, spec)
        return self.built[slot]

    def _check_wiring(self, slot: str, spec: ComponentSpec) -> None:
        component, declared = self.built[slot], self.config.slot(slot).config
        wired = {
            k: getattr(spec.config, k)
            for k in type(spec.config).model_fields
            if getattr(spec.config, k) != getattr(declared, k, None)
        }
        wrong = [
            f"{k}={getattr(component.config, k)!r} where the other slots need {v!r}"
            for k, v in wired.items()
            if getattr(component.config, k, v) != v
        ]
        if wrong:
            raise ConfigError(
                [(slot, f"the {type(component).__name__} given or kept for this slot has "
                        f"{', '.join(wrong)}, as the other slots are configured; give this slot one "
                        f"built with those values, or other slots that fit it (a model of another "
                        f"image size or width needs every slot that depends on it replaced)")],
                source=type(self.config).__name__,
            )


def wire(spec: ComponentSpec, **fields: Any) -> ComponentSpec:
    """``spec`` with the given fields set, skipping those its component type does not have.

    What :meth:`Composition.build_components` uses to pass one slot's widths into another
    (``wire(config.generator, word_dim=text.word_dim)``) whatever types fill the slots.
    """
    known = type(spec.config).model_fields
    changed = {k: v for k, v in fields.items() if k in known and getattr(spec.config, k) != v}
    return spec.replace(**changed) if changed else spec


def spec_of(component: Component, requested: ComponentSpec | None = None) -> ComponentSpec:
    """The spec that rebuilds ``component``: its registered (public) name and its config,
    keeping the ``requested`` name when it names the same class."""
    registry = get_registry(component.kind)
    if requested is not None:
        try:
            if registry.get(requested.type) is type(component):
                return ComponentSpec(component.kind, requested.type, component.config)
        except TextEditError:
            pass
    entry = registry.entry_for(type(component))
    name = registry.public_name(entry)
    return ComponentSpec(component.kind, name, component.config)
