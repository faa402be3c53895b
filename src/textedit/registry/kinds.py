"""The seven registries: one per component kind, plus ``model`` for compositions and presets."""

from __future__ import annotations

import inspect
from typing import Any

from textedit.registry.registry import Registry

__all__ = ["KINDS", "MODEL_KIND", "ENTRY_POINT_GROUPS", "get_registry", "registries"]

#: component kind -> (entry-point group, import path of the kind's base class)
KINDS: dict[str, tuple[str, str]] = {
    "text_encoder": ("textedit.text_encoders", "textedit.interfaces.text_encoder:TextEncoder"),
    "memory_bank": ("textedit.memory_banks", "textedit.interfaces.memory_bank:MemoryBank"),
    "localizer": ("textedit.localizers", "textedit.interfaces.localizer:Localizer"),
    "structure_extractor": (
        "textedit.structure_extractors",
        "textedit.interfaces.structure_extractor:StructureExtractor",
    ),
    "generator": ("textedit.generators", "textedit.interfaces.generator:Generator"),
    "discriminator": ("textedit.discriminators", "textedit.interfaces.discriminator:Discriminator"),
}
MODEL_KIND = "model"
#: every entry-point group textedit reads, by kind
ENTRY_POINT_GROUPS: dict[str, str] = {
    **{kind: group for kind, (group, _) in KINDS.items()},
    MODEL_KIND: "textedit.models",
}

# Built-in components register themselves when these modules are imported; the registries
# import them on first use so that ``import textedit`` stays cheap.
_BUILTIN_MODULES = ("textedit.components", "textedit.models")


def _import_object(path: str) -> Any:
    import importlib

    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _component_validator(kind: str, base_path: str):
    def validate(obj: Any) -> None:
        from textedit.config.base import ComponentConfig

        base = _import_object(base_path)
        if not (inspect.isclass(obj) and issubclass(obj, base)):
            raise TypeError(
                f"a {kind} must be a subclass of {base.__module__}.{base.__qualname__}, "
                f"got {obj!r}"
            )
        if inspect.isabstract(obj):
            raise TypeError(f"{obj.__qualname__} is abstract: implement {sorted(obj.__abstractmethods__)}")
        config_class = getattr(obj, "config_class", None)
        if not (inspect.isclass(config_class) and issubclass(config_class, ComponentConfig)):
            raise TypeError(
                f"{obj.__qualname__}.config_class must be a subclass of "
                f"textedit.config.ComponentConfig, got {config_class!r}"
            )

    return validate


def _model_validator(obj: Any) -> None:
    from textedit.interfaces.composition import Composition, Preset

    if isinstance(obj, Preset):
        return
    if inspect.isclass(obj) and issubclass(obj, Composition) and not inspect.isabstract(obj):
        return
    raise TypeError(
        f"a model must be a concrete textedit.Composition subclass or a textedit.Preset, got {obj!r}"
    )


_REGISTRIES: dict[str, Registry] = {
    kind: Registry(kind, group, _component_validator(kind, base), _BUILTIN_MODULES)
    for kind, (group, base) in KINDS.items()
}
_REGISTRIES[MODEL_KIND] = Registry(
    MODEL_KIND, ENTRY_POINT_GROUPS[MODEL_KIND], _model_validator, _BUILTIN_MODULES
)


def get_registry(kind: str) -> Registry:
    """The registry of ``kind`` (``"generator"``, ..., or ``"model"``)."""
    try:
        return _REGISTRIES[kind]
    except KeyError:
        raise ValueError(
            f"unknown component kind {kind!r}; kinds: {', '.join(_REGISTRIES)}"
        ) from None


def registries() -> dict[str, Registry]:
    """Every registry by kind, in a fixed order."""
    return dict(_REGISTRIES)
