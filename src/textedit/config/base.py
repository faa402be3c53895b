"""Configuration models: one frozen pydantic model per component, specs for composition slots.

A component is referenced in a config as ``{"type": <registered name>, ...fields}``. The
fields are validated by that component's own config class, looked up through the registry
of the slot's kind, so a typo anywhere is reported with its full path::

    generator.channels: Input should be greater than 0 (got -3)
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from textedit.errors import AmbiguousComponentError, ConfigError, UnknownComponentError
from textedit.registry.kinds import get_registry

__all__ = [
    "ComponentConfig",
    "CompositionConfig",
    "ComponentSpec",
    "SlotSpec",
    "validation_error_to_config_error",
    "validate_config",
]


class ComponentConfig(BaseModel):
    """Base of every component's config: unknown keys are errors, instances are immutable.

    Subclasses describe every field (``Field(description=...)``); the test suite checks it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class ComponentSpec:
    """A resolved reference to a component: its registered ``type`` and validated config.

    Attributes:
        kind: the registry kind (``"generator"``...).
        type: the name the component was asked for by (bare or qualified).
        config: the component's validated config.
    """

    kind: str
    type: str
    config: ComponentConfig

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., **fields}``, the form written to config files."""
        return {"type": self.type, **self.config.to_dict()}

    def replace(self, **fields: Any) -> "ComponentSpec":
        """A copy with some config fields changed (validated again)."""
        merged = {**self.config.to_dict(), **fields}
        return ComponentSpec(self.kind, self.type, validate_config(type(self.config), merged, prefix=self.kind))


def _spec_validator(kind: str):
    def validate(value: Any) -> ComponentSpec:
        if isinstance(value, ComponentSpec):
            if value.kind != kind:
                raise PydanticCustomError(
                    "wrong_kind", "expected a {kind} spec, got a {got} spec",
                    {"kind": kind, "got": value.kind},
                )
            return value
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, Mapping):
            raise PydanticCustomError(
                "component_spec",
                "expected a {kind} spec: a registered name or a mapping with a 'type' key",
                {"kind": kind},
            )
        fields = dict(value)
        name = fields.pop("type", None)
        if name is None:
            raise _error_at(("type",), "missing", "Field required", value)
        registry = get_registry(kind)
        try:
            cls = registry.get(name)
        except (UnknownComponentError, AmbiguousComponentError) as exc:
            raise _error_at(("type",), "unknown_component", str(exc), name) from None
        config_class = component_config_class(cls)
        return ComponentSpec(kind, name, config_class.model_validate(fields))

    return validate


def component_config_class(obj: Any) -> type[BaseModel]:
    """The config class of a registered component class or composition class."""
    config_class = getattr(obj, "config_class", None)
    if config_class is None:
        raise TypeError(f"{obj!r} has no config_class")
    return config_class


def _error_at(loc: tuple[str, ...], kind: str, message: str, value: Any) -> ValidationError:
    detail: InitErrorDetails = {
        "type": PydanticCustomError(kind, message.replace("{", "{{").replace("}", "}}")),
        "loc": loc,
        "input": value,
    }
    return ValidationError.from_exception_data("ComponentSpec", [detail])


def SlotSpec(kind: str) -> Any:
    """The annotation of a composition slot holding a component of ``kind``.

    Example:
        >>> class MyModelConfig(CompositionConfig):  # doctest: +SKIP
        ...     generator: SlotSpec("generator") = Field("mimnet", description="...")
    """
    return Annotated[
        ComponentSpec,
        BeforeValidator(_spec_validator(kind)),
        PlainSerializer(lambda spec: spec.to_dict(), return_type=dict),
        WithJsonSchema({"type": "object", "properties": {"type": {"type": "string"}}}),
        _SlotMarker(kind),
    ]


@dataclass(frozen=True)
class _SlotMarker:
    kind: str


class CompositionConfig(BaseModel):
    """Base of a composition's config: one :func:`SlotSpec` field per slot plus its own fields."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, arbitrary_types_allowed=True
    )

    #: slot name -> kind, filled in for each subclass from its SlotSpec fields.
    slot_kinds: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        slots = {}
        for name, info in cls.model_fields.items():
            for meta in info.metadata:
                if isinstance(meta, _SlotMarker):
                    slots[name] = meta.kind
        cls.slot_kinds = slots

    def slot(self, name: str) -> ComponentSpec:
        """The spec held by slot ``name``."""
        if name not in self.slot_kinds:
            raise KeyError(f"{type(self).__name__} has no slot {name!r}; slots: {list(self.slot_kinds)}")
        return getattr(self, name)

    def own_fields(self) -> dict[str, Any]:
        """The JSON-ready fields that are not slots."""
        data = self.model_dump(mode="json")
        return {k: v for k, v in data.items() if k not in self.slot_kinds}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, slots as ``{"type": ..., **fields}``."""
        return self.model_dump(mode="json")


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif str(item).startswith("function-") or str(item).endswith("]"):
            continue  # pydantic's internal validator steps
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _fields_at(config_class: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str] | None:
    """The field names of the config model at ``loc`` (nested models followed, Optional
    unwrapped), or None where the path leaves typed models (a dict, a list)."""
    cls = config_class
    for part in loc:
        field = cls.model_fields.get(part) if cls is not None and isinstance(part, str) else None
        if field is None:
            return None
        options = [field.annotation, *typing.get_args(field.annotation)]
        cls = next((a for a in options if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return None if cls is None else list(cls.model_fields)


def _unknown_field(name: Any, fields: list[str] | None) -> str:
    """The message of a field the config does not have: the closest name, or the names."""
    if fields is None:
        return "unknown field"
    close = difflib.get_close_matches(str(name), fields, n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field; the fields here: {', '.join(fields)}"


def validation_error_to_config_error(
    exc: ValidationError, prefix: str = "", source: str | None = None,
    config_class: type[BaseModel] | None = None,
) -> ConfigError:
    """Turn a pydantic error into a :class:`ConfigError` with dotted paths; with the
    validated ``config_class``, an unknown field is told its closest name."""
    errors = []
    for err in exc.errors(include_url=False):
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, ConfigError):  # raised by a validator: keep its own paths
            errors += [(f"{prefix}.{p}" if prefix and p else (p or prefix), m) for p, m in inner.errors]
            continue
        path = _format_loc(tuple(err["loc"]))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            loc = tuple(err["loc"])
            errors.append((path, _unknown_field(loc[-1], _fields_at(config_class, loc[:-1]))))
            continue
        if err["type"] == "value_error":  # a validator's ValueError: its message alone
            msg = msg.removeprefix("Value error, ")
        if err["type"] not in {"missing", "unknown_component"} and "input" in err:
            shown = repr(err["input"])
            if len(shown) <= 60:
                msg = f"{msg} (got {shown})"
        errors.append((path, msg))
    return ConfigError(errors, source=source)


def validate_config(
    config_class: type[BaseModel], data: Any, *, prefix: str = "", source: str | None = None
) -> Any:
    """Validate ``data`` against ``config_class``, raising :class:`ConfigError` on failure."""
    if isinstance(data, config_class):
        return data
    try:
        return config_class.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_config_error(exc, prefix=prefix, source=source, config_class=config_class) from None
