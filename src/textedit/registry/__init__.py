"""Component registries fed by code (built-ins) and entry points (plug-ins)."""

from textedit.registry.api import *  # noqa: F401,F403
from textedit.registry.api import __all__ as _api_all
from textedit.registry.entry_points import AUTOLOAD_ENV
from textedit.registry.kinds import ENTRY_POINT_GROUPS, KINDS, MODEL_KIND, get_registry, registries
from textedit.registry.registry import Registry, RegistryEntry

__all__ = [
    *_api_all,
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUPS",
    "KINDS",
    "MODEL_KIND",
    "Registry",
    "RegistryEntry",
    "get_registry",
    "registries",
]
