"""Front doors: one function per verb, like ``timm.create_model``.

``create_<kind>(spec)`` builds a component from a name, a ``{"type": ...}`` mapping, a
resolved :class:`~textedit.config.ComponentSpec` or a config instance;
``list_components(kind)`` lists names without importing any plug-in; ``create_model``
builds a composition from a preset name, a composition name or a full spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textedit.config.base import ComponentConfig, ComponentSpec, validate_config
from textedit.errors import ConfigError, TextEditError, UnknownComponentError
from textedit.registry.kinds import KINDS, MODEL_KIND, RECIPE_KIND, get_registry, registries
from textedit.registry.presets import Preset, merge_overrides

__all__ = [
    "create_component",
    "create_text_encoder",
    "create_memory_bank",
    "create_localizer",
    "create_structure_extractor",
    "create_generator",
    "create_discriminator",
    "create_image_encoder",
    "create_model",
    "resolve_model_config",
    "list_components",
    "list_models",
    "list_recipes",
    "create_recipe",
    "get_component_class",
    "register_text_encoder",
    "register_memory_bank",
    "register_localizer",
    "register_structure_extractor",
    "register_generator",
    "register_discriminator",
    "register_image_encoder",
    "register_model",
    "register_preset",
    "register_recipe",
]

Spec = str | Mapping[str, Any] | ComponentSpec | ComponentConfig


def get_component_class(kind: str, name: str) -> type:
    """The class registered as ``name`` for ``kind`` (imports its plug-in if needed)."""
    return get_registry(kind).get(name)


def create_component(kind: str, spec: Spec, **overrides: Any) -> Any:
    """Build a component of ``kind`` from ``spec``, with fields in ``overrides`` replaced."""
    if isinstance(spec, ComponentSpec):
        if spec.kind != kind:
            raise TextEditError(f"expected a {kind} spec, got a {spec.kind} spec ({spec.type!r})")
        cls = get_registry(kind).get(spec.type)
        config = spec.replace(**overrides).config if overrides else spec.config
        return cls(config)
    if isinstance(spec, ComponentConfig):
        registry = get_registry(kind)
        # the loaded entries first; a plug-in not imported yet is imported only if needed
        entries = [e for e in registry.entries() if e.status == "loaded"]
        matches = [e.obj for e in entries if e.obj.config_class is type(spec)]
        if not matches:
            entries = [e for e in registry.load_all() if e.status == "loaded"]
            matches = [e.obj for e in entries if e.obj.config_class is type(spec)]
        if not matches:
            raise TextEditError(f"no registered {kind} uses {type(spec).__name__}")
        return matches[0](spec.model_copy(update=overrides) if overrides else spec)
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise TextEditError(
            f"a {kind} spec is a registered name or a mapping with a 'type' key, got {spec!r}"
        )
    fields = {**spec, **overrides}
    cls = get_registry(kind).get(fields.pop("type"))
    return cls(validate_config(cls.config_class, fields, prefix=kind))


def _creator(kind: str) -> Callable[..., Any]:
    def create(spec: Spec, **overrides: Any) -> Any:
        return create_component(kind, spec, **overrides)

    create.__name__ = f"create_{kind}"
    create.__doc__ = (
        f"Build a {kind.replace('_', ' ')} from a registered name, a ``{{'type': ...}}`` "
        f"mapping, a spec or a config; keyword arguments override config fields."
    )
    return create


create_text_encoder = _creator("text_encoder")
create_memory_bank = _creator("memory_bank")
create_localizer = _creator("localizer")
create_structure_extractor = _creator("structure_extractor")
create_generator = _creator("generator")
create_discriminator = _creator("discriminator")
create_image_encoder = _creator("image_encoder")


def resolve_model_config(spec: str | Mapping[str, Any], **overrides: Any) -> tuple[type, Any]:
    """The composition class and validated config a model spec describes, without building it.

    See :func:`create_model` for the forms of ``spec`` and ``overrides``.
    """
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping) or "type" not in spec:
        raise TextEditError(f"a model spec is a registered name or a mapping with 'type', got {spec!r}")
    fields = dict(spec)
    registry = get_registry(MODEL_KIND)
    obj = registry.get(fields.pop("type"))
    preset_config: dict[str, Any] = {}
    if isinstance(obj, Preset):
        preset_config = obj.config_dict()
        preset = obj
        try:
            obj = registry.get(preset.composition)
        except UnknownComponentError as exc:
            origin = registry.entry_for(preset).origin
            raise UnknownComponentError(
                f"the preset {preset.name!r} (from {origin}) builds the composition "
                f"{preset.composition!r}, which is not registered: {exc}"
            ) from None
        if isinstance(obj, Preset):
            raise ConfigError(
                [("composition", f"{preset.composition!r} is a preset, not a composition: name its "
                                 f"composition {obj.composition!r} instead")],
                source=f"the preset {preset.name!r} (from {registry.entry_for(preset).origin})",
            )
    # merged in layers, each over the one below (composition defaults < preset < spec <
    # overrides): fields not given keep the layer below's, and a slot given another type
    # replaces that layer's slot even when the spec names the slot without a type
    config = obj.config_class().to_dict()
    for layer in (preset_config, fields, overrides):
        config = merge_overrides(config, layer)
    return obj, validate_config(obj.config_class, config)


def create_model(spec: str | Mapping[str, Any], **overrides: Any) -> Any:
    """Build a composition with fresh weights.

    Args:
        spec: a preset name (``"mimnet_64"``), a composition name (``"mimnet"``), or a
            mapping ``{"type": <preset or composition>, ...config}``.
        **overrides: config fields deep-merged into the preset's config, e.g.
            ``generator={"channels": 32}`` or ``text_encoder={"type": "sentence_transformer"}``;
            a slot given another ``type`` is replaced rather than merged.
    """
    composition, config = resolve_model_config(spec, **overrides)
    return composition.from_config(config)


def list_components(kind: str | None = None, qualified: bool = False) -> Any:
    """Registered names, without importing any plug-in.

    Args:
        kind: one kind (``"generator"``, ..., ``"model"``); None lists every kind.
        qualified: list ``<distribution>:<name>`` for every entry.

    Returns:
        A sorted list of names for one kind, or a dict kind -> list for all kinds.
    """
    if kind is not None:
        return get_registry(kind).names(qualified=qualified)
    return {k: r.names(qualified=qualified) for k, r in registries().items()}


def list_models() -> list[str]:
    """Registered compositions and presets."""
    return get_registry(MODEL_KIND).names()


def list_recipes() -> list[str]:
    """Registered training recipes."""
    return get_registry(RECIPE_KIND).names()


def create_recipe(spec: Spec, model: Any, context: Any) -> Any:
    """Build a training recipe for ``model`` from a registered name, a ``{"type": ...}``
    mapping or a resolved spec (see :mod:`textedit.interfaces.recipe`)."""
    if isinstance(spec, ComponentSpec):
        cls, config = get_registry(RECIPE_KIND).get(spec.type), spec.config
    else:
        fields = {"type": spec} if isinstance(spec, str) else dict(spec)
        cls = get_registry(RECIPE_KIND).get(fields.pop("type"))
        config = validate_config(cls.config_class, fields, prefix="recipe")
    return cls(config, model, context)


def _registrar(kind: str) -> Callable[..., Any]:
    def register(name: str | None = None, *, force: bool = False) -> Callable[[Any], Any]:
        return get_registry(kind).register(name, force=force)

    register.__name__ = f"register_{kind}"
    register.__doc__ = (
        f"Decorator registering a {kind.replace('_', ' ')} class in code under ``name``. "
        f"Plug-in packages declare an entry point in the group "
        f"``{(KINDS.get(kind) or ('textedit.models',))[0]}`` instead."
    )
    return register


register_text_encoder = _registrar("text_encoder")
register_memory_bank = _registrar("memory_bank")
register_localizer = _registrar("localizer")
register_structure_extractor = _registrar("structure_extractor")
register_generator = _registrar("generator")
register_discriminator = _registrar("discriminator")
register_image_encoder = _registrar("image_encoder")


def register_model(name: str | None = None, *, force: bool = False) -> Callable[[Any], Any]:
    """Decorator registering a :class:`~textedit.Composition` class in code under ``name``.

    To register a preset, call ``get_registry("model").add(preset.name, preset)``, or use
    :func:`register_preset`.
    """
    return get_registry(MODEL_KIND).register(name, force=force)


def register_recipe(name: str | None = None, *, force: bool = False) -> Callable[[Any], Any]:
    """Decorator registering a :class:`~textedit.interfaces.recipe.Recipe` class in code under
    ``name``. Plug-in packages declare an entry point in the group ``textedit.recipes``."""
    return get_registry(RECIPE_KIND).register(name, force=force)


def register_preset(preset: Any, *, force: bool = False) -> Any:
    """Register a :class:`~textedit.Preset` under its name and return it."""
    get_registry(MODEL_KIND).add(preset.name, preset, force=force)
    return preset

