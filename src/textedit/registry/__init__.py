"""Component registries fed by code (built-ins) and entry points (plug-ins).

The front doors of :mod:`textedit.registry.api` (``create_component``, ``list_models``, ...)
are loaded on first access: the registries themselves (:mod:`.kinds`) sit below the configs
that look types up in them, and the front doors above those configs.
"""

from __future__ import annotations

import importlib
from typing import Any

from textedit.registry.entry_points import AUTOLOAD_ENV
from textedit.registry.kinds import ENTRY_POINT_GROUPS, KINDS, MODEL_KIND, RECIPE_KIND, get_registry, registries
from textedit.registry.registry import Registry, RegistryEntry

_API = (
    "create_component", "create_text_encoder", "create_memory_bank", "create_localizer",
    "create_structure_extractor", "create_generator", "create_discriminator",
    "create_image_encoder", "create_model", "resolve_model_config", "list_components",
    "list_models", "list_recipes", "create_recipe",
    "get_component_class", "register_text_encoder", "register_memory_bank", "register_localizer",
    "register_structure_extractor", "register_generator", "register_discriminator",
    "register_image_encoder", "register_model", "register_preset", "register_recipe",
)

__all__ = [
    *_API,
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUPS",
    "KINDS",
    "MODEL_KIND",
    "RECIPE_KIND",
    "Registry",
    "RegistryEntry",
    "get_registry",
    "registries",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module("textedit.registry.api"), name)
    raise AttributeError(f"module 'textedit.registry' has no attribute {name!r}")
