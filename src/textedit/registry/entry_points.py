"""The one place where textedit reads entry points.

Everything that discovers plug-ins goes through :func:`discover`, so the backend that reads
the installed distributions' metadata (today the ``entrypoints`` package) can be replaced
without touching the registry. Reading entry points parses ``entry_points.txt`` files only;
no plug-in module is imported until :meth:`PluginEntry.load` is called.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import entrypoints

from textedit.errors import PluginWarning
from textedit.utils.caller import warn_caller

__all__ = ["PluginEntry", "discover", "unknown_groups", "autoload_disabled", "normalize_distribution", "AUTOLOAD_ENV"]

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
    sorted by distribution then name, so discovery is deterministic. An entry point whose
    target cannot be parsed is listed too: loading it raises an error naming it.
    """
    seen: dict[tuple[str, str, str], PluginEntry] = {}
    try:
        found = _all_distributions(group)
    except Exception as exc:  # noqa: BLE001  (one damaged package must not stop textedit)
        found = _each_distribution(group, exc)
    for name, target, dist, version, ep in found:
        dist_name = normalize_distribution(dist)
        key = (dist_name, name, target)
        if key not in seen:
            seen[key] = PluginEntry(group, name, target, dist_name, version, ep)
    return sorted(seen.values(), key=lambda e: (e.distribution, e.name))


def unknown_groups(known: Iterable[str]) -> dict[str, tuple[list[str], str | None]]:
    """Entry-point groups that look like textedit's (``textedit.*``, or one letter away from
    a group in ``known``) but are not in ``known``, each with the distributions declaring
    it and the group of ``known`` it is closest to (None when none is close): a plug-in that
    misspelt its group is otherwise never found."""
    known = list(known)
    out: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():  # one at a time: a damaged package is passed over
        try:
            groups = {ep.group for ep in dist.entry_points}
        except Exception:  # noqa: BLE001  (discover warns of it)
            continue
        for group in groups - set(known):
            if group.lower().startswith("textedit.") or difflib.get_close_matches(group, known, n=1, cutoff=0.9):
                out.setdefault(group, set()).add(normalize_distribution(dist.metadata["Name"] or "unknown"))
    return {
        group: (sorted(dists), next(iter(difflib.get_close_matches(group, known, n=1, cutoff=0.6)), None))
        for group, dists in sorted(out.items())
    }


class _Unparseable:
    """Stands in for an entry point whose target is not ``module:object`` syntax."""

    def __init__(self, name: str, value: str, distribution: str):
        self.name, self.value, self.distribution = name, value, distribution

    def load(self) -> Any:
        raise ValueError(
            f"the entry point {self.name!r} = {self.value!r} of the installed package "
            f"{self.distribution} is not 'module.path:object' syntax; fix it in that package's "
            f"pyproject.toml ([project.entry-points]) and reinstall it"
        )


def _parsed(name: str, value: str, distribution: str) -> tuple[str, Any]:
    """The target and a loadable entry point for ``name = value`` (parsed as ``entrypoints``
    parses it), or the raw value and an :class:`_Unparseable` that says what is wrong."""
    try:
        ep = entrypoints.EntryPoint.from_string(value, name)
    except entrypoints.BadEntryPoint:
        return value.strip(), _Unparseable(name, value.strip(), distribution)
    target = f"{ep.module_name}:{ep.object_name}" if ep.object_name else ep.module_name
    return target, ep


def _version(distribution: str, folder_version: str | None) -> str | None:
    """The version of ``distribution``: the one its metadata folder's name gives, unless that
    folder is a legacy ``.egg-info`` whose name records none (or one with a Python tag such as
    ``0.1.0-py3.11``); then the version its metadata file records."""
    if folder_version and "-" not in folder_version:
        return folder_version
    try:
        return importlib.metadata.version(distribution)
    except Exception:  # noqa: BLE001  (not findable by name: keep what the folder said)
        return folder_version


def _all_distributions(group: str) -> list[tuple[str, str, str, str | None, Any]]:
    """The entry points of ``group`` read through ``entrypoints`` (every distribution's
    ``entry_points.txt`` at once)."""
    found = []
    for config, distro in entrypoints.iter_files_distros():
        if group not in config:
            continue
        dist = distro.name if distro is not None else "unknown"
        version = _version(dist, getattr(distro, "version", None))
        for name, value in config[group].items():
            target, ep = _parsed(name, value, normalize_distribution(dist))
            found.append((name, target, dist, version, ep))
    return found


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
            warn_caller(f"skipped the entry points of the installed package {name}: {exc}", PluginWarning)
            continue
        names = [ep.name for ep in eps]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # what made reading them all at once fail: which one is meant is unknown
            warn_caller(
                f"skipped the entry points {twice} of the installed package {name}: each is declared "
                f"twice in group {group!r}",
                PluginWarning,
            )
        for ep in eps:
            if ep.name not in twice:
                target, parsed = _parsed(ep.name, ep.value, normalize_distribution(name))
                found.append((ep.name, target, name, dist.version, parsed))
    warn_caller(
        f"reading the installed packages' entry points at once failed ({type(failure).__name__}: {failure}); "
        f"read them one package at a time instead, skipping any that cannot be read",
        PluginWarning,
    )
    return found
