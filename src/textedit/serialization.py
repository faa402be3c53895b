"""Saving and loading components and compositions.

Layout of a saved component (any folder)::

    config.json          {"type": <name>, ...fields, "_textedit": {kind, class, origin, versions}}
    model.safetensors    the state dict

Layout of a saved composition::

    model_index.json     composition type and class, library and schema versions, its own
                         config fields, and for each slot: kind, type, class and origin
    <slot>/              one saved component per slot

Loading resolves every type and validates every config *before* reading any weights, so a
missing plug-in or a bad config fails fast and clearly; weights load strictly. Everything is
written into a temporary directory renamed into place, so an interrupted save never leaves
a model that loads half-written.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from textedit._version import SCHEMA_VERSION, __version__
from textedit.config.base import ComponentSpec, validate_config
from textedit.errors import AmbiguousComponentError, CheckpointError, InputError, TextEditError, UnknownComponentError
from textedit.registry.entry_points import autoload_disabled
from textedit.registry.kinds import MODEL_KIND, get_registry
from textedit.registry.registry import RegistryEntry
from textedit.utils.atomic import atomic_directory, interrupted_replacement
from textedit.utils.device import resolve_device

__all__ = [
    "save_component",
    "load_component",
    "save_composition",
    "load_composition",
    "read_composition_config",
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "INDEX_NAME",
    "is_composition_dir",
    "is_restoring",
    "restoring",
]

_RESTORING = contextvars.ContextVar("textedit_restoring", default=False)


def is_restoring() -> bool:
    """True while a saved model is being rebuilt before its weights are loaded.

    A component whose constructor would fetch pretrained weights (from a file or a hub)
    skips that when this is true: the saved weights overwrite them anyway, and the file or
    network may not be there on the machine that loads the model.
    """
    return _RESTORING.get()


@contextlib.contextmanager
def restoring() -> Iterator[None]:
    """Build components inside this block as if a saved model were being rebuilt
    (:func:`is_restoring` is true): for code that loads weights of its own right after,
    such as resuming a training checkpoint."""
    token = _RESTORING.set(True)
    try:
        yield
    finally:
        _RESTORING.reset(token)


CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model_index.json"
META_KEY = "_textedit"


def _origin(entry: RegistryEntry) -> dict[str, Any]:
    return {"distribution": entry.distribution, "version": entry.version}


def _meta(kind: str, entry: RegistryEntry, fmt: str) -> dict[str, Any]:
    return {
        "format": fmt,
        "kind": kind,
        "class": entry.target,
        "origin": _origin(entry),
        "textedit_version": __version__,
        "schema_version": SCHEMA_VERSION,
    }


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _write_weights(module: torch.nn.Module, path: Path, dtype: torch.dtype | None) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import save_model

    # Store floating tensors in ``dtype`` (e.g. float16 for a small bundled model); loading
    # casts them to the float32 modules it builds.
    stored = module if dtype is None else _cast_copy(module, dtype)
    try:
        save_model(stored, str(path))
    except SafetensorError as exc:  # the writer's I/O errors (a full disk): Python's OSError
        code = re.search(r"os error (\d+)", str(exc))
        if code is None:
            raise
        raise OSError(int(code.group(1)), os.strerror(int(code.group(1))), str(path)) from exc


def _cast_copy(module: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    import copy

    clone = copy.deepcopy(module)
    for tensor in list(clone.parameters()) + list(clone.buffers()):
        if tensor.is_floating_point():
            tensor.data = tensor.data.to(dtype)
    return clone


def _check_save(directory: Path, overwrite: bool, dtype: torch.dtype | None) -> None:
    """Refuse, before anything is written, a ``dtype`` that is not a floating one and a
    ``directory`` whose replacement would delete what is not a saved model or component."""
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise InputError(f"dtype must be a floating torch.dtype such as torch.float16, got {dtype!r}")
    if not overwrite or not directory.exists():
        return  # atomic_directory refuses an existing directory when overwrite is False
    if not directory.is_dir():
        raise InputError(f"{directory} is a file; save to a folder")
    held = sorted(p.name for p in directory.iterdir())
    if held and INDEX_NAME not in held and CONFIG_NAME not in held:
        shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
        raise InputError(
            f"refusing to replace {directory}: it is not a saved textedit model or component "
            f"(it holds {shown}), and saving replaces the whole folder; save to a new folder"
        )


def _save_component_into(component: Any, directory: Path, dtype: torch.dtype | None) -> RegistryEntry:
    registry = get_registry(component.kind)
    entry = registry.entry_for(type(component))
    name = registry.public_name(entry)
    data = {"type": name, **component.config.to_dict(), META_KEY: _meta(component.kind, entry, "component")}
    directory.mkdir(parents=True, exist_ok=True)
    _write_json(directory / CONFIG_NAME, data)
    _write_weights(component, directory / WEIGHTS_NAME, dtype)
    return entry


def save_component(
    component: Any,
    directory: str | Path,
    *,
    overwrite: bool = True,
    dtype: torch.dtype | None = None,
) -> Path:
    """Save one component to ``directory`` (atomically); see the module docstring.

    Raises:
        FileExistsError: ``directory`` exists and ``overwrite`` is False.
        InputError: ``directory`` holds something other than a saved model or component
            (replacing it would delete that), or ``dtype`` is not a floating dtype.
    """
    directory = Path(directory)
    _check_save(directory, overwrite, dtype)
    with atomic_directory(directory, overwrite=overwrite) as tmp:
        _save_component_into(component, tmp, dtype)
    return directory


def save_composition(
    model: Any,
    directory: str | Path,
    *,
    overwrite: bool = True,
    dtype: torch.dtype | None = None,
) -> Path:
    """Save a composition to ``directory`` (atomically); see the module docstring.

    Raises:
        FileExistsError: ``directory`` exists and ``overwrite`` is False.
        InputError: ``directory`` holds something other than a saved model or component
            (replacing it would delete that), or ``dtype`` is not a floating dtype.
    """
    directory = Path(directory)
    _check_save(directory, overwrite, dtype)
    registry = get_registry(MODEL_KIND)
    entry = registry.entry_for(type(model))
    with atomic_directory(directory, overwrite=overwrite) as tmp:
        slots = {}
        for slot, component in model.components().items():
            slot_entry = _save_component_into(component, tmp / slot, dtype)
            slots[slot] = {
                "kind": component.kind,
                "type": model.config.slot(slot).type,
                "class": slot_entry.target,
                "origin": _origin(slot_entry),
            }
        index = {
            META_KEY: _meta(MODEL_KIND, entry, "composition"),
            "type": entry.name,
            "config": model.config.own_fields(),
            "slots": slots,
        }
        _write_json(tmp / INDEX_NAME, index)
    return directory


# ---------------------------------------------------------------------------- loading
def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        hint = ""
        if what == "component" and (path.parent / INDEX_NAME).is_file():
            hint = "; it holds a whole model: load it with textedit.load"
        raise CheckpointError(f"{path.parent} is not a saved textedit {what}: it has no {path.name}{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); the file is damaged") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} must hold a JSON object, found {type(data).__name__}")
    return data


def _check_meta(meta: Any, path: Path) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} has no {META_KEY!r} metadata; it was not written by textedit")
    schema = meta.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise CheckpointError(f"{path}: metadata has no schema_version (a whole number from 1); the file is damaged")
    if schema > SCHEMA_VERSION:
        raise CheckpointError(
            f"{path} was written by textedit {meta.get('textedit_version', '?')} in save format "
            f"{schema}; this textedit ({__version__}) reads formats up to {SCHEMA_VERSION}. "
            f"Upgrade textedit: pip install -U textedit-mimnet"
        )
    return meta


def _resolve(kind: str, name: str, meta: Mapping[str, Any], where: str) -> type:
    """Resolve a saved type, explaining a missing plug-in with the package to install.

    The distribution recorded at saving is asked first (``<distribution>:<name>``), so
    that another plug-in declaring the same bare name neither makes the saved model
    ambiguous nor takes its place. Without that distribution, the bare name is used only
    when it names the class the model was saved with.
    """
    registry = get_registry(kind)
    origin = meta.get("origin") or {}
    dist, version = origin.get("distribution"), origin.get("version")
    saved_class = meta.get("class")
    try:
        if not dist:  # saved before origins were recorded
            return registry.get(name)
        try:
            return registry.get(f"{dist}:{name}")
        except UnknownComponentError:
            entry = registry.resolve(name)
            if saved_class and not _same_class(entry.target, saved_class, code=version is None):
                raise _AnotherClass(
                    f"(the {kind} {name!r} registered now is {entry.target} from "
                    f"{entry.origin}, another class)"
                ) from None
            return registry.load(entry)
    except UnknownComponentError as exc:
        other = f" {exc}" if isinstance(exc, _AnotherClass) else ""
        if autoload_disabled() and dist and dist != "textedit" and version:
            raise CheckpointError(
                f"{where} needs the {kind} {name!r} from the plug-in {dist!r} {version}, and "
                f"plug-in auto-loading is off (TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD): unset it, or "
                f"register the component in code before loading{other}"
            ) from exc
        if dist == "__main__":
            raise CheckpointError(
                f"{where} needs the {kind} {name!r}, which a script registered (in __main__) "
                f"when the model was saved: run the code that registers it before loading, "
                f"or move the component into a module or a plug-in package. {exc}"
            ) from exc
        if dist and dist != "textedit" and version:
            raise CheckpointError(
                f"{where} needs the {kind} {name!r} from the distribution {dist!r} (saved with "
                f"version {version}), which is not installed or not registered: "
                f"pip install '{dist}=={version}'{other}"
            ) from exc
        if dist and dist != "textedit":
            raise CheckpointError(
                f"{where} needs the {kind} {name!r}, which was registered in code by the module "
                f"{dist!r} when it was saved: import the module that registers it before loading. {exc}"
            ) from exc
        raise CheckpointError(f"{where}: {exc}") from exc
    except AmbiguousComponentError as exc:
        raise CheckpointError(f"{where}: {exc}") from exc


class _AnotherClass(UnknownComponentError):
    """The bare name is registered, but for another class than the saved one."""


def _same_class(target: str, saved: str, code: bool) -> bool:
    """Whether the registered ``target`` (``module:Class``) is the class a model was saved
    with. A component registered in code (no distribution version: a script's ``__main__``,
    a module of the user's) may have moved since, so there the class name decides."""
    if target == saved:
        return True
    return code and target.rpartition(":")[2] == saved.rpartition(":")[2]


def _read_component_spec(directory: Path, kind: str | None, where: str) -> tuple[type, ComponentSpec]:
    data = _read_json(directory / CONFIG_NAME, "component")
    meta = _check_meta(data.pop(META_KEY, None), directory / CONFIG_NAME)
    saved_kind = meta.get("kind")
    if kind is not None and saved_kind != kind:
        raise CheckpointError(f"{directory} holds a {saved_kind}, not a {kind}")
    name = data.pop("type", None)
    if not isinstance(name, str):
        raise CheckpointError(f"{directory / CONFIG_NAME} has no 'type'")
    cls = _resolve(saved_kind, name, meta, where)
    config = validate_config(cls.config_class, data, prefix=where, source=str(directory / CONFIG_NAME))
    return cls, ComponentSpec(saved_kind, name, config)


def _as_saved(spec: ComponentSpec, cls: type, slot_meta: Any) -> ComponentSpec:
    """``spec`` under the type name the model's config gave the slot when it was saved (a
    plug-in's qualified ``dist:name``, where the component's own file holds the bare name),
    when that name still resolves to ``cls``: the loaded model's config then equals the
    saved one's, and rebuilding from it does not depend on the bare name staying unique."""
    saved = slot_meta.get("type") if isinstance(slot_meta, Mapping) else None
    if not isinstance(saved, str) or saved == spec.type:
        return spec
    try:
        if get_registry(spec.kind).get(saved) is not cls:
            return spec
    except TextEditError:  # not resolvable now (a plug-in renamed or gone): keep the bare name
        return spec
    return ComponentSpec(spec.kind, saved, spec.config)


def _version_change(directory: Path) -> str | None:
    """What to do when the plug-in a saved component comes from is installed at another
    version than it was saved with (its new code builds other layers from the same config);
    None when it is not or cannot be told."""
    try:
        data = json.loads((directory / CONFIG_NAME).read_text(encoding="utf-8"))
        meta = data.get(META_KEY) or {}
        origin = meta.get("origin") or {}
        dist, saved = origin.get("distribution"), origin.get("version")
        installed = get_registry(meta["kind"]).resolve(f"{dist}:{data['type']}").version
    except Exception:  # noqa: BLE001  (the files were read once already; this only adds a hint)
        return None
    if not dist or not saved or installed in (None, saved):
        return None
    return (
        f"it was saved with {dist} {saved} and {dist} {installed} is installed, whose code builds "
        f"other layers: pip install '{dist}=={saved}' to load it"
    )


def _load_weights(module: torch.nn.Module, path: Path, where: str, map_location: Any) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise CheckpointError(f"{where}: weights file {path} is missing")
    try:
        state = load_file(str(path), device=str(map_location))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{where}: cannot read {path} ({exc}); the file is damaged") from exc
    expected = module.state_dict()
    # safetensors stores a tensor shared by two names once; restore the aliases
    for key in expected:
        if key not in state:
            for other, tensor in expected.items():
                if other in state and tensor.data_ptr() == expected[key].data_ptr() and other != key:
                    state[key] = state[other]
                    break
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = [
        f"{k}: saved {tuple(state[k].shape)}, model {tuple(expected[k].shape)}"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}")
        if mismatched:
            parts.append(f"shape mismatch {mismatched[:5]}")
        raise CheckpointError(
            f"{where}: the weights in {path} do not fit the architecture its config describes "
            f"({'; '.join(parts)}); "
            + (_version_change(path.parent) or "the folder mixes files from different models")
        )
    module.load_state_dict(state, strict=True)


def load_component(
    directory: str | Path, kind: str | None = None, map_location: Any = "cpu"
) -> Any:
    """Load a component saved by :func:`save_component`.

    Args:
        directory: the component's folder.
        kind: expected kind, or None to accept any.
        map_location: device to load the weights on (``"cpu"``, ``"cuda"``, ``"cuda:N"``,
            ``"auto"``).

    Returns:
        the component, in eval mode (call ``.train()`` to fine-tune it).
    """
    map_location = resolve_device(map_location)
    directory = Path(directory)
    where = kind or "component"
    cls, spec = _read_component_spec(directory, kind, where)
    with restoring():
        component = cls(spec.config)
    _load_weights(component, directory / WEIGHTS_NAME, where, map_location)
    return component.to(map_location).eval()


def load_composition(directory: str | Path, map_location: Any = "cpu") -> Any:
    """Load a composition saved by :func:`save_composition`; see the module docstring.

    The model comes back in eval mode on ``map_location`` (``"cpu"``, ``"cuda"``,
    ``"cuda:N"``, ``"auto"``); call ``.train()`` to fine-tune it.
    """
    map_location = resolve_device(map_location)
    directory = Path(directory)
    cls, config, classes, specs = _read_composition(directory)
    # 2. build the architecture, 3. load weights strictly
    with restoring():
        components = {slot: classes[slot](specs[slot].config) for slot in specs}
    for slot, component in components.items():
        _load_weights(component, directory / slot / WEIGHTS_NAME, slot, map_location)
    model = cls(config, components)
    return model.to(map_location).eval()


def read_composition_config(directory: str | Path) -> tuple[type, Any]:
    """The class and config of the composition saved in ``directory``, read and checked as
    :func:`load_composition` reads them, without building it or reading its weights."""
    cls, config, _, _ = _read_composition(Path(directory))
    return cls, config


def _read_composition(directory: Path) -> tuple[type, Any, dict[str, type], dict[str, ComponentSpec]]:
    """Step 1 of loading: every type resolved and every config validated, no weights read."""
    if not directory.exists():
        aside = interrupted_replacement(directory)
        hint = f"; a save replacing it was interrupted, and the previous model is at {aside}: rename it back" if aside else ""
        raise CheckpointError(f"no saved model at {directory}: the path does not exist{hint}")
    index = _read_json(directory / INDEX_NAME, "model")
    meta = _check_meta(index.get(META_KEY), directory / INDEX_NAME)
    name = index.get("type")
    if not isinstance(name, str):
        raise CheckpointError(f"{directory / INDEX_NAME} has no 'type'")
    cls = _resolve(MODEL_KIND, name, meta, "model")
    if not isinstance(cls, type):  # a preset's name: presets are configs, not what is saved
        raise CheckpointError(
            f"{directory / INDEX_NAME}: 'type' {name!r} is a preset, not a composition; a saved "
            f"model names its composition (the file was edited, or written by other code)"
        )
    slots_meta = index.get("slots")
    if not isinstance(slots_meta, dict):
        raise CheckpointError(f"{directory / INDEX_NAME} has no 'slots' mapping")
    expected_slots = cls.config_class.slot_kinds
    if set(slots_meta) != set(expected_slots):
        raise CheckpointError(
            f"{directory}: saved slots {sorted(slots_meta)} do not match the slots of "
            f"{cls.__qualname__} {sorted(expected_slots)}"
        )
    # 1. resolve every type and validate every config before touching any weights
    classes: dict[str, type] = {}
    specs: dict[str, ComponentSpec] = {}
    for slot, kind in expected_slots.items():
        classes[slot], specs[slot] = _read_component_spec(directory / slot, kind, slot)
        specs[slot] = _as_saved(specs[slot], classes[slot], slots_meta.get(slot))
    own = index.get("config") or {}
    if not isinstance(own, dict):
        raise CheckpointError(f"{directory / INDEX_NAME}: 'config' must be a JSON object, found {type(own).__name__}")
    config = validate_config(cls.config_class, {**own, **specs}, source=str(directory / INDEX_NAME))
    return cls, config, classes, specs


def is_composition_dir(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by :func:`save_composition`."""
    return (Path(path) / INDEX_NAME).is_file()

