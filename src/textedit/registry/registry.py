"""A registry of named components of one kind, fed by code and by entry points.

Resolution rules (deterministic, never last-import-wins):

* A component registered in code (a built-in) owns its bare name.
* Every component is also reachable as ``<distribution>:<name>``; built-ins of textedit are
  ``textedit:<name>``.
* A plug-in whose bare name is taken by a built-in is reachable only by its qualified name.
* Two plug-ins with one bare name make that bare name ambiguous: asking for it raises
  :class:`~textedit.errors.AmbiguousComponentError` listing both qualified names.
* A plug-in that fails to import, or does not provide a valid object, warns once
  (:class:`~textedit.errors.PluginWarning`) and is recorded; asking for it raises
  :class:`~textedit.errors.PluginLoadError` chained to the original exception.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import sys
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from textedit._version import __version__
from textedit.errors import (
    AmbiguousComponentError,
    PluginLoadError,
    PluginWarning,
    TextEditError,
    UnknownComponentError,
)
from textedit.registry.entry_points import (
    PluginEntry,
    autoload_disabled,
    discover,
    normalize_distribution,
    unknown_groups,
)
from textedit.utils.caller import warn_caller

__all__ = ["Registry", "RegistryEntry"]

BUILTIN_DISTRIBUTION = "textedit"
Status = Literal["loaded", "not loaded", "failed"]


@dataclass
class RegistryEntry:
    """What a registry knows about one component.

    Attributes:
        name: bare name (the entry point's name, or the name given to ``register``).
        distribution: normalised distribution that provides it (``"textedit"`` for
            built-ins; the defining module's top package for components registered by user
            code outside any distribution).
        version: that distribution's version, when known.
        builtin: registered in code rather than discovered through an entry point.
        target: ``"module:object"`` where the component lives.
        status: ``"loaded"``, ``"not loaded"`` (a plug-in not imported yet) or ``"failed"``.
        error: the exception a failed plug-in raised.
    """

    name: str
    distribution: str
    version: str | None
    builtin: bool
    target: str
    status: Status = "not loaded"
    error: BaseException | None = None
    obj: Any = field(default=None, repr=False)
    plugin: PluginEntry | None = field(default=None, repr=False)

    @property
    def qualified_name(self) -> str:
        """``<distribution>:<name>``, unique within a registry."""
        return f"{self.distribution}:{self.name}"

    @property
    def origin(self) -> str:
        """Human-readable origin: ``"textedit 0.2.0 (built-in)"`` or ``"mypkg 1.2"``."""
        version = f" {self.version}" if self.version else ""
        suffix = " (built-in)" if self.builtin and self.distribution == BUILTIN_DISTRIBUTION else ""
        return f"{self.distribution}{version}{suffix}"


class Registry:
    """Named components of one kind.

    Args:
        kind: singular kind name, e.g. ``"generator"``.
        group: entry-point group read for plug-ins, e.g. ``"textedit.generators"``.
        validate: called with every object registered in code or loaded from a plug-in;
            raises ``TypeError`` when it is not a valid member of this registry (e.g. not a
            subclass of the kind's base class).
        verify: called with a plug-in's entry after ``validate``, once it is marked loaded
            (so that it may look up other entries, this one by its qualified name included);
            raises when the object cannot be used (e.g. a preset whose config does not
            validate). Code registrations skip it: they may name components registered
            after them.
        builtin_modules: modules imported on first use so that built-ins register
            themselves; kept lazy so that ``import textedit`` stays cheap.
    """

    def __init__(
        self,
        kind: str,
        group: str,
        validate: Callable[[Any], None],
        builtin_modules: Iterable[str] = (),
        verify: Callable[[RegistryEntry], None] | None = None,
    ):
        self.kind = kind
        self.group = group
        self._validate = validate
        self._verify = verify
        self._builtin_modules = tuple(builtin_modules)
        self._builtins: dict[str, RegistryEntry] = {}
        self._plugins: list[RegistryEntry] | None = None
        self._builtins_imported = False
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- registration
    def register(
        self, name: str | None = None, *, force: bool = False
    ) -> Callable[[Any], Any]:
        """Decorator registering a class (or preset) in code under ``name``.

        Args:
            name: registry key; defaults to the object's ``__name__``.
            force: replace an existing registration of that name instead of raising.
        """

        def decorator(obj: Any) -> Any:
            self.add(name or obj.__name__, obj, force=force)
            return obj

        return decorator

    def add(self, name: str, obj: Any, *, force: bool = False) -> RegistryEntry:
        """Register ``obj`` in code under ``name``; see :meth:`register`."""
        if not name or ":" in name:
            raise ValueError(f"invalid {self.kind} name {name!r}: use a non-empty name without ':'")
        self._validate(obj)
        with self._lock:
            old = self._builtins.get(name)
            if old is not None and old.obj is not obj and not force:
                raise ValueError(
                    f"{self.kind} {name!r} is already registered by {old.target}; "
                    f"pass force=True to replace it, or pick another name"
                )
            module = getattr(obj, "__module__", type(obj).__module__)
            distribution, version = _code_origin(module)
            if old is not None and old.obj is not obj and old.distribution == BUILTIN_DISTRIBUTION != distribution:
                warn_caller(
                    f"{module} replaces textedit's built-in {self.kind} {name!r} ({old.target}) for "
                    f"this whole process, in every model built after it, the saved ones loaded "
                    f"included; a plug-in should add a name of its own",
                    PluginWarning,
                )
            entry = RegistryEntry(
                name=name,
                distribution=distribution,
                version=version,
                builtin=True,
                target=f"{module}:{getattr(obj, '__qualname__', name)}",
                status="loaded",
                obj=obj,
            )
            self._builtins[name] = entry
            return entry

    def unregister(self, name: str) -> None:
        """Remove a component registered in code (tests and interactive sessions)."""
        with self._lock:
            self._builtins.pop(name, None)

    # ---------------------------------------------------------------- discovery
    def _ensure_builtins(self) -> None:
        if self._builtins_imported:
            return
        with self._lock:
            if self._builtins_imported:
                return
            self._builtins_imported = True
            for module in self._builtin_modules:
                importlib.import_module(module)

    def _ensure_plugins(self) -> list[RegistryEntry]:
        with self._lock:
            if self._plugins is None:
                found = [] if autoload_disabled() else discover(self.group)
                self._plugins = [
                    RegistryEntry(
                        name=p.name,
                        distribution=p.distribution,
                        version=p.version,
                        builtin=False,
                        target=p.target,
                        plugin=p,
                    )
                    for p in found
                ]
            return self._plugins

    def refresh(self) -> None:
        """Forget discovered plug-ins; the next lookup reads the entry points again."""
        with self._lock:
            self._plugins = None

    def entries(self) -> list[RegistryEntry]:
        """Every known component, built-ins first, then plug-ins; imports no plug-in."""
        self._ensure_builtins()
        builtins = sorted(self._builtins.values(), key=lambda e: e.name)
        return builtins + list(self._ensure_plugins())

    def names(self, qualified: bool = False) -> list[str]:
        """Names a user can ask for; imports no plug-in.

        Args:
            qualified: list every component as ``<distribution>:<name>`` instead.

        With ``qualified=False`` a component appears under its bare name when that name
        resolves to it, and under its qualified name when the bare name is shadowed by a
        built-in or shared with another plug-in.
        """
        entries = self.entries()
        if qualified:
            return sorted(e.qualified_name for e in entries)
        return sorted(self.public_name(e) for e in entries)

    def public_name(self, entry: RegistryEntry) -> str:
        """The bare name when it resolves to ``entry``, else the qualified name."""
        if entry.builtin:
            return entry.name
        shadowed = entry.name in self._builtins or any(
            e is not entry and not e.builtin and e.name == entry.name for e in self._ensure_plugins()
        )
        return entry.qualified_name if shadowed else entry.name

    # ------------------------------------------------------------------ lookup
    def resolve(self, name: str) -> RegistryEntry:
        """The entry ``name`` refers to, without importing it.

        Raises:
            UnknownComponentError: no such name; the message lists close matches and what
                is available.
            AmbiguousComponentError: a bare name provided by several plug-ins.
        """
        if not isinstance(name, str) or not name:
            raise UnknownComponentError(
                f"a {self.kind} name must be a non-empty string, got {name!r}"
            )
        entries = self.entries()
        if ":" in name:
            dist, _, bare = name.partition(":")
            dist = normalize_distribution(dist)
            for e in entries:  # code-registered modules keep their own spelling
                if normalize_distribution(e.distribution) == dist and e.name == bare:
                    return e
            raise self._unknown(name)
        if name in self._builtins:
            return self._builtins[name]
        matches = [e for e in entries if not e.builtin and e.name == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(repr(e.qualified_name) for e in matches)
            raise AmbiguousComponentError(
                f"{self.kind} name {name!r} is provided by {len(matches)} plug-ins: {options}; "
                f"ask for one of them by its qualified name"
            )
        raise self._unknown(name)

    def _unknown(self, name: str) -> UnknownComponentError:
        failed = {self.public_name(e) for e in self.entries() if e.status == "failed"}
        available = [n for n in self.names() if n not in failed]
        close = difflib.get_close_matches(name, available + self.names(qualified=True), n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(available) if available else "none"
        if failed:
            listing += f"; failed to load: {', '.join(sorted(failed))} (see `textedit components`)"
        if autoload_disabled():
            listing += " (plug-in auto-loading is off)"
        misspelt = "" if autoload_disabled() else _misspelt_groups(self.group)
        return UnknownComponentError(
            f"unknown {self.kind} {name!r}.{hint} Available {self.kind}s: {listing}. "
            f"A plug-in adds one through the entry-point group {self.group!r}.{misspelt}"
        )

    def get(self, name: str) -> Any:
        """The registered object for ``name``, importing its plug-in if needed."""
        return self.load(self.resolve(name))

    def load(self, entry: RegistryEntry) -> Any:
        """Import a plug-in entry (once) and validate it; see the module docstring."""
        with self._lock:
            if entry.status == "loaded":
                return entry.obj
            if entry.status == "failed":
                raise self._load_error(entry) from entry.error
            assert entry.plugin is not None  # built-ins are always loaded
            try:
                obj = entry.plugin.load()
                self._validate(obj)
                entry.status, entry.obj = "loaded", obj
                if self._verify is not None:
                    self._verify(entry)
            except (Exception, SystemExit) as exc:  # a broken plug-in must not break textedit
                # (SystemExit: a module that parses sys.argv or calls exit() on import)
                entry.status, entry.error, entry.obj = "failed", exc, None
                warn_caller(
                    f"textedit plug-in {entry.qualified_name} ({entry.target}) could not be "
                    f"loaded and is skipped: {type(exc).__name__}: {exc}",
                    PluginWarning,
                )
                raise self._load_error(entry) from exc
            return obj

    def _load_error(self, entry: RegistryEntry) -> PluginLoadError:
        hint = ""
        if isinstance(entry.error, ModuleNotFoundError) and ":" not in entry.target and "." in entry.target:
            module, _, obj = entry.target.rpartition(".")
            hint = f" (an entry point names 'module:object': did the package mean '{module}:{obj}'?)"
        return PluginLoadError(
            f"{self.kind} {entry.qualified_name!r} from plug-in distribution "
            f"{entry.origin!r} failed to load from {entry.target}: "
            f"{type(entry.error).__name__}: {str(entry.error).rstrip('.')}{hint}. Reinstall or fix "
            f"that package, or uninstall it; the rest of textedit is unaffected."
        )

    def load_all(self) -> list[RegistryEntry]:
        """Try to load every entry, recording failures instead of raising (for diagnostics)."""
        entries = self.entries()
        for e in entries:
            if e.status == "not loaded":
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", PluginWarning)
                        self.load(e)
                except PluginLoadError:
                    pass
        return entries

    def entry_for(self, obj: Any) -> RegistryEntry:
        """The entry under which ``obj`` (a class or preset) is registered."""
        for e in self.entries():
            if e.status == "loaded" and e.obj is obj:
                return e
        for e in self.entries():  # an unloaded plug-in may hold it: compare targets
            if e.status == "not loaded" and e.target == _target_of(obj):
                self.load(e)
                return e
        raise TextEditError(
            f"{_target_of(obj)} is not a registered {self.kind}, and saving or loading finds "
            f"a class by its registered name: a plug-in package declares it in the entry-point "
            f"group {self.group!r}, found once the package is installed (`pip install -e .` in "
            f"its folder, also before running its tests); code outside a package registers it "
            f"with textedit.register_{self.kind}('name')"
        )

    def __contains__(self, name: object) -> bool:
        try:
            self.resolve(name)  # type: ignore[arg-type]
        except (UnknownComponentError, AmbiguousComponentError):
            return False
        return True

    def __repr__(self) -> str:
        return f"Registry(kind={self.kind!r}, group={self.group!r})"


def _misspelt_groups(group: str) -> str:
    """A sentence naming the packages that declare entry points in a group that looks like
    ``group`` but is not it (they are never found), or ``""``."""
    from textedit.registry.kinds import ENTRY_POINT_GROUPS  # lazy: textedit.registry.kinds imports this module

    close = [
        f"{', '.join(dists)} declare(s) entry points in {other!r}"
        for other, (dists, closest) in unknown_groups(ENTRY_POINT_GROUPS.values()).items()
        if closest == group
    ]
    return f" (Misspelt? {'; '.join(close)}, which textedit does not read.)" if close else ""


def _target_of(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


def _code_origin(module: str) -> tuple[str, str | None]:
    """Distribution and version of the package defining ``module``."""
    top = module.split(".")[0]
    if top == "textedit":
        return BUILTIN_DISTRIBUTION, __version__
    from importlib import metadata

    dists = _packages_distributions(tuple(sys.path)).get(top, [])
    if dists:
        name = dists[0]
        try:
            return normalize_distribution(name), metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover
            return normalize_distribution(name), None
    return top, None


@functools.lru_cache(maxsize=4)
def _packages_distributions(path: tuple[str, ...]) -> dict[str, list[str]]:
    """``importlib.metadata.packages_distributions()`` for one ``sys.path``.

    It reads the file list of every installed distribution (about half a second in an
    environment with torch), so it is computed once per ``sys.path`` rather than once per
    component registered in code.
    """
    from importlib import metadata

    try:
        return metadata.packages_distributions()
    except Exception:  # pragma: no cover - broken metadata on the path
        return {}
