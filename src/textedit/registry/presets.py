"""Presets: named configurations of a registered composition, and the deep merge of
config overrides they use."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from textedit.errors import ConfigError, TextEditError

__all__ = ["Preset", "merge_overrides"]


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a config mapping.

    A slot override that names another ``type`` replaces the slot's spec instead of being
    merged into it, since the old fields belong to the old type; one that names the slot's
    own type (as a mapping or as the bare name) keeps its fields.
    """
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        old = out.get(key)
        if isinstance(value, str) and isinstance(old, Mapping) and "type" in old:
            value = {"type": value}  # a slot named by its type alone: its fields stay if it keeps it
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            if "type" in value and old.get("type") not in (None, value["type"]):
                out[key] = copy.deepcopy(dict(value))
            else:
                out[key] = merge_overrides(old, value)
        elif isinstance(value, Mapping):
            out[key] = copy.deepcopy(dict(value))
        else:
            out[key] = value
    return out


@dataclass
class Preset:
    """A named configuration of a composition, registered in ``textedit.models``.

    Attributes:
        name: registry name, e.g. ``"mimnet_64"``.
        composition: registry name of the composition class, e.g. ``"mimnet"``.
        config: the composition config as a mapping, or a callable returning one (lets a
            preset read data lazily, e.g. a default vocabulary).
        description: one line shown by ``textedit components``.
    """

    name: str
    composition: str
    config: Mapping[str, Any] | Callable[[], Mapping[str, Any]]
    description: str = ""

    def __post_init__(self) -> None:
        # The registry reads __module__ to tell which distribution a preset comes from:
        # record the module that created the preset, not this one.
        self.__module__ = sys._getframe(2).f_globals.get("__name__", "")
        self.__qualname__ = self.name
        self.__name__ = self.name

    def config_dict(self, **overrides: Any) -> dict[str, Any]:
        """The preset's config with ``overrides`` deep-merged in."""
        if callable(self.config):
            try:
                base = self.config()
            except TextEditError:
                raise
            except Exception as exc:
                raise ConfigError(
                    [("config", f"the preset's config callable raised {type(exc).__name__}: {exc}")],
                    source=f"the preset {self.name!r} ({self.__module__})",
                ) from exc
        else:
            base = self.config
        if not isinstance(base, Mapping):
            raise ConfigError(
                [("config", f"must be a mapping (or a callable returning one), got {type(base).__name__}")],
                source=f"the preset {self.name!r} ({self.__module__})",
            )
        return merge_overrides(base, overrides)
