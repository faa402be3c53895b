"""textedit: text-guided image manipulation as composable, registered components.

``import textedit`` is cheap: it imports neither torch nor any plug-in. The public names
below are loaded on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from textedit._version import SCHEMA_VERSION, __version__
from textedit.errors import (
    AmbiguousComponentError,
    CheckpointError,
    ConfigError,
    InputError,
    MissingDependencyError,
    PluginLoadError,
    PluginWarning,
    TextEditError,
    UnknownComponentError,
)

_LAZY: dict[str, str] = {
    # front doors
    "create_component": "textedit.registry.api",
    "create_text_encoder": "textedit.registry.api",
    "create_memory_bank": "textedit.registry.api",
    "create_localizer": "textedit.registry.api",
    "create_structure_extractor": "textedit.registry.api",
    "create_generator": "textedit.registry.api",
    "create_discriminator": "textedit.registry.api",
    "create_image_encoder": "textedit.registry.api",
    "create_model": "textedit.registry.api",
    "list_components": "textedit.registry.api",
    "list_models": "textedit.registry.api",
    "get_component_class": "textedit.registry.api",
    "register_text_encoder": "textedit.registry.api",
    "register_memory_bank": "textedit.registry.api",
    "register_localizer": "textedit.registry.api",
    "register_structure_extractor": "textedit.registry.api",
    "register_generator": "textedit.registry.api",
    "register_discriminator": "textedit.registry.api",
    "register_image_encoder": "textedit.registry.api",
    "register_model": "textedit.registry.api",
    "register_preset": "textedit.registry.api",
    "get_registry": "textedit.registry.kinds",
    # contracts
    "Component": "textedit.interfaces",
    "Composition": "textedit.interfaces",
    "Preset": "textedit.interfaces",
    "TextEncoder": "textedit.interfaces",
    "MemoryBank": "textedit.interfaces",
    "Localizer": "textedit.interfaces",
    "StructureExtractor": "textedit.interfaces",
    "Generator": "textedit.interfaces",
    "Discriminator": "textedit.interfaces",
    "ImageEncoder": "textedit.interfaces",
    "EditingModel": "textedit.interfaces",
    "GeneratingModel": "textedit.interfaces",
    # configs and saving
    "ComponentConfig": "textedit.config",
    "CompositionConfig": "textedit.config",
    "SlotSpec": "textedit.config",
    "load_component": "textedit.serialization",
    "load": "textedit.pretrained",
    "list_pretrained": "textedit.pretrained",
    "load_composition": "textedit.serialization",
}

__all__ = [
    "__version__",
    "SCHEMA_VERSION",
    "TextEditError",
    "ConfigError",
    "UnknownComponentError",
    "AmbiguousComponentError",
    "PluginLoadError",
    "PluginWarning",
    "CheckpointError",
    "MissingDependencyError",
    "InputError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'textedit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from textedit.config import ComponentConfig, CompositionConfig, SlotSpec
    from textedit.interfaces import (
        Component,
        Composition,
        Discriminator,
        EditingModel,
        GeneratingModel,
        Generator,
        ImageEncoder,
        Localizer,
        MemoryBank,
        Preset,
        StructureExtractor,
        TextEncoder,
    )
    from textedit.registry.api import *  # noqa: F403
    from textedit.registry.kinds import get_registry
    from textedit.pretrained import list_pretrained, load
    from textedit.serialization import load_component, load_composition
