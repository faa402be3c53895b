"""The one place where textedit reads entry points.

Everything that discovers plug-ins goes through :func:`discover`, so the backend that reads
the installed distributions' metadata (today the ``entrypoints`` package) can be replaced
without touching the registry. Reading entry points parses ``entry_points.txt`` files only;
no plug-in module is imported until :meth:`PluginEntry.load` is called.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import entrypoints

from textedit.errors import PluginWarning

__all__ = ["PluginEntry", "discover", "autoload_disabled", "normalize_distribution", "AUTOLOAD_ENV"]

#: Set to ``1`` (or ``true``/``yes``) to stop textedit from discovering plug-ins through entry
#: points. Components registered in code keep working.
AUTOLOAD_ENV = "TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD"


def autoload_disabled() -> bool:
    """Whether plug-in auto-loading is switched off through :data:`AUTOLOAD_ENV`."""
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def normalize_distribution(name: str) -> str:
    """PEP 503 normalisation: ``Textedit_Plugin.Example`` -> ``textedit-plugin-example``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PluginEntry:
    """One entry point of one distribution, not yet imported.

    Attributes:
        group: entry-point group, e.g. ``"textedit.generators"``.
        name: the entry point's name, the component's bare name.
        target: ``"module:object"`` the entry point points at.
        distribution: normalised name of the distribution that declares it.
        version: that distribution's version, if known.
    """

    group: str
    name: str
    target: str
    distribution: str
    version: str | None
    _entry: Any = field(default=None, repr=False, compare=False)

    def load(self) -> Any:
        """Import the target module and return the object. Errors propagate unchanged."""
        return self._entry.load()


def discover(group: str) -> list[PluginEntry]:
    """List the entry points of ``group`` declared by the installed distributions.

    Entries are deduplicated (a distribution visible twice on ``sys.path`` counts once) and
    sorted by distribution then name, so discovery is deterministic.
    """
    seen: dict[tuple[str, str, str], PluginEntry] = {}
    try:
        found = [
            (ep.name, f"{ep.module_name}:{ep.object_name}" if ep.object_name else ep.module_name,
             ep.distro.name if ep.distro is not None else "unknown", getattr(ep.distro, "version", None), ep)
            for ep in entrypoints.get_group_all(group)
        ]
    except Exception as exc:  # noqa: BLE001  (one damaged package must not stop textedit)
        found = _each_distribution(group, exc)
    for name, target, dist, version, ep in found:
        dist_name = normalize_distribution(dist)
        key = (dist_name, name, target)
        if key not in seen:
            seen[key] = PluginEntry(group, name, target, dist_name, version, ep)
    return sorted(seen.values(), key=lambda e: (e.distribution, e.name))


def _each_distribution(group: str, failure: Exception) -> list[tuple[str, str, str, str | None, Any]]:
    """The entry points of ``group`` read one distribution at a time (``importlib.metadata``),
    skipping those whose ``entry_points.txt`` cannot be read: what discovery falls back on
    when one damaged package made reading them all at once fail with ``failure``."""
    found = []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or "unknown"
        try:
            eps = [ep for ep in dist.entry_points if ep.group == group]
        except Exception as exc:  # noqa: BLE001
            warnings.warn(f"skipped the entry points of the installed package {name}: {exc}", PluginWarning, stacklevel=3)
            continue
        found += [(ep.name, ep.value.replace(" ", ""), name, dist.version, ep) for ep in eps]
    warnings.warn(
        f"reading the installed packages' entry points at once failed ({type(failure).__name__}: {failure}); "
        f"read them one package at a time instead, skipping any that cannot be read",
        PluginWarning,
        stacklevel=3,
    )
    return found
