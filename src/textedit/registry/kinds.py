"""The nine registries: one per component kind, ``model`` for compositions and presets,
and ``recipe`` for training recipes."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from textedit.registry.presets import Preset
from textedit.registry.registry import Registry

__all__ = ["KINDS", "MODEL_KIND", "RECIPE_KIND", "ENTRY_POINT_GROUPS", "get_registry", "registries"]

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
    "image_encoder": ("textedit.image_encoders", "textedit.interfaces.image_encoder:ImageEncoder"),
}
MODEL_KIND = "model"
RECIPE_KIND = "recipe"
#: every entry-point group textedit reads, by kind
ENTRY_POINT_GROUPS: dict[str, str] = {
    **{kind: group for kind, (group, _) in KINDS.items()},
    MODEL_KIND: "textedit.models",
    RECIPE_KIND: "textedit.recipes",
}

# Built-in components register themselves when these modules are imported; the registries
# import them on first use so that ``import textedit`` stays cheap.
_BUILTIN_MODULES = ("textedit.components", "textedit.models")


def _import_object(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


#: the classes the validators check against, named by path and imported when the first entry
#: is validated (the registries sit below the contracts they check)
_COMPONENT_CONFIG = "textedit.config.base:ComponentConfig"
_COMPOSITION = "textedit.interfaces.composition:Composition"
_COMPOSITION_CONFIG = "textedit.config.base:CompositionConfig"
_RESOLVE_MODEL_CONFIG = "textedit.registry.api:resolve_model_config"
_RECIPE = "textedit.interfaces.recipe:Recipe"
_RECIPE_CONFIG = "textedit.interfaces.recipe:RecipeConfig"


def _check_class(obj: Any, what: str, base_path: str, config_path: str) -> None:
    """``obj`` is a concrete subclass of the class at ``base_path`` whose ``config_class``
    subclasses the one at ``config_path``; else a ``TypeError`` that says which is not."""
    base, config_base = _import_object(base_path), _import_object(config_path)
    if not (inspect.isclass(obj) and issubclass(obj, base)):
        raise TypeError(f"{what} must be a subclass of {base.__module__}.{base.__qualname__}, got {obj!r}")
    if inspect.isabstract(obj):
        raise TypeError(f"{obj.__qualname__} is abstract: implement {', '.join(sorted(obj.__abstractmethods__))}")
    config_class = getattr(obj, "config_class", None)
    if not (inspect.isclass(config_class) and issubclass(config_class, config_base)):
        raise TypeError(
            f"{obj.__qualname__}.config_class must be a subclass of "
            f"{config_base.__module__}.{config_base.__qualname__}, got {config_class!r}"
        )


def _component_validator(kind: str, base_path: str):
    def validate(obj: Any) -> None:
        _check_class(obj, f"a {kind}", base_path, _COMPONENT_CONFIG)

    return validate


def _model_validator(obj: Any) -> None:
    if isinstance(obj, Preset):
        if not (isinstance(obj.name, str) and isinstance(obj.composition, str) and obj.composition):
            raise TypeError(f"a preset needs a name and the registered name of its composition, got {obj!r}")
        if not (isinstance(obj.config, Mapping) or callable(obj.config)):
            raise TypeError(f"the config of preset {obj.name!r} must be a mapping or a callable returning one, got {obj.config!r}")
        return
    _check_class(obj, "a model (or a textedit.Preset)", _COMPOSITION, _COMPOSITION_CONFIG)


def _verify_model(entry: Any) -> None:
    """A plug-in preset resolves: its composition is registered and its config validates
    (looked up by qualified name: a built-in or another plug-in may share the bare one)."""
    if isinstance(entry.obj, Preset):
        _import_object(_RESOLVE_MODEL_CONFIG)(entry.qualified_name)


def _recipe_validator(obj: Any) -> None:
    _check_class(obj, "a recipe", _RECIPE, _RECIPE_CONFIG)


_REGISTRIES: dict[str, Registry] = {
    kind: Registry(kind, group, _component_validator(kind, base), _BUILTIN_MODULES)
    for kind, (group, base) in KINDS.items()
}
_REGISTRIES[MODEL_KIND] = Registry(
    MODEL_KIND, ENTRY_POINT_GROUPS[MODEL_KIND], _model_validator, _BUILTIN_MODULES, verify=_verify_model
)
_REGISTRIES[RECIPE_KIND] = Registry(
    RECIPE_KIND, ENTRY_POINT_GROUPS[RECIPE_KIND], _recipe_validator, _BUILTIN_MODULES
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
