"""The exception types of textedit.

Every error a user can trigger derives from :class:`TextEditError`, so that
``except textedit.TextEditError`` catches them all. Messages follow one rule: say what
failed, what was given, what is allowed and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "TextEditError",
    "ConfigError",
    "UnknownComponentError",
    "AmbiguousComponentError",
    "PluginLoadError",
    "PluginWarning",
    "CheckpointError",
    "MissingDependencyError",
    "InputError",
]


class TextEditError(Exception):
    """Base class of every error raised by textedit on purpose."""


class ConfigError(TextEditError, ValueError):
    """A configuration failed validation.

    Attributes:
        errors: ``(path, message)`` pairs, the path dotted from the root of the config
            (``"generator.channels"``).
    """

    def __init__(self, errors: list[tuple[str, str]], source: str | None = None):
        self.errors = errors
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  {path or '<root>'}: {msg}" for path, msg in errors)
        super().__init__(f"invalid configuration{where}:\n{lines}")

    def under(self, prefix: str) -> ConfigError:
        """The same errors, their paths under ``prefix`` (a config nested in a larger one:
        ``generator.channels`` -> ``model.generator.channels``)."""
        return ConfigError([(f"{prefix}.{path}" if path else prefix, msg) for path, msg in self.errors], self.source)


class UnknownComponentError(TextEditError, KeyError):
    """A component name is not registered for its kind."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AmbiguousComponentError(TextEditError, LookupError):
    """A bare name is provided by two or more plug-ins; a qualified name is needed."""


class PluginLoadError(TextEditError, ImportError):
    """A plug-in's entry point failed to import or does not provide a valid component."""


class PluginWarning(UserWarning):
    """Warned once per broken plug-in; the rest of textedit keeps working."""


class CheckpointError(TextEditError, OSError):
    """A saved model cannot be read: missing files, another schema, mismatched weights."""


class MissingDependencyError(TextEditError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install``."""


class InputError(TextEditError, ValueError):
    """A user input (image, text, path) cannot be used; the message says why and what to do."""
