"""Configs: one frozen pydantic model per component, composition configs, file I/O."""

from textedit.config.base import (
    ComponentConfig,
    ComponentSpec,
    CompositionConfig,
    SlotSpec,
    validate_config,
    validation_error_to_config_error,
)
from textedit.config.io import (
    apply_overrides,
    load_config,
    parse_override,
    read_config_file,
    save_config,
    write_config_file,
)

__all__ = [
    "ComponentConfig",
    "ComponentSpec",
    "CompositionConfig",
    "SlotSpec",
    "validate_config",
    "validation_error_to_config_error",
    "apply_overrides",
    "load_config",
    "parse_override",
    "read_config_file",
    "save_config",
    "write_config_file",
]
