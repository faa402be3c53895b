"""Reading and writing configs as JSON or YAML (chosen by the file suffix)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from textedit.config.base import validate_config
from textedit.errors import ConfigError
from textedit.utils.atomic import atomic_write_text

__all__ = [
    "read_config_file",
    "write_config_file",
    "load_config",
    "save_config",
    "parse_override",
    "apply_overrides",
]

T = TypeVar("T", bound=BaseModel)
_YAML = {".yaml", ".yml"}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping stored in a ``.json``, ``.yaml`` or ``.yml`` file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([("", f"config file {path} does not exist")], source=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in _YAML:
            import yaml

            data = yaml.safe_load(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(
                [("", f"unsupported config suffix {path.suffix!r}: use .json, .yaml or .yml")],
                source=str(path),
            )
    except ConfigError:
        raise
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        raise ConfigError([("", f"cannot parse: {exc}")], source=str(path)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([("", f"expected a mapping at the top, found {type(data).__name__}")], source=str(path))
    return data


def write_config_file(path: str | Path, data: dict[str, Any]) -> None:
    """Write a mapping as JSON or YAML, atomically."""
    path = Path(path)
    if path.suffix.lower() in _YAML:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(data, indent=2) + "\n"
    atomic_write_text(path, text)


def load_config(path: str | Path, config_class: type[T]) -> T:
    """Read and validate a config file; errors carry the file name and dotted paths."""
    return validate_config(config_class, read_config_file(path), source=str(path))


def save_config(config: BaseModel, path: str | Path) -> None:
    """Write a config (JSON-ready dump) to ``path``."""
    write_config_file(path, config.model_dump(mode="json"))


def parse_override(item: str) -> tuple[list[str], Any]:
    """Parse a command-line override ``a.b.c=value`` (value read as YAML: ``1e-4``, ``[1,2]``).

    Returns:
        The dotted path split into keys, and the value.
    """
    import yaml

    if "=" not in item:
        raise ConfigError([(item, "an override looks like key.subkey=value")])
    key, _, raw = item.partition("=")
    keys = [k for k in key.strip().split(".") if k]
    if not keys:
        raise ConfigError([(item, "empty key in override")])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):  # YAML 1.1 reads "2e-4" as a string
        try:
            value = float(value)
        except ValueError:
            pass
    return keys, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides to a nested mapping (copied); each sets one key,
    the mapping's other keys stay (``data.type=packed`` keeps ``data.reword``)."""
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        keys, value = parse_override(item)
        node = out
        for k in keys[:-1]:
            child = node.get(k)
            if not isinstance(child, dict):
                child = {} if child is None else {"type": child} if isinstance(child, str) else None
                if child is None:
                    raise ConfigError([(".".join(keys), f"{k!r} is not a mapping")])
                node[k] = child
            node = child
        node[keys[-1]] = value
    return out

