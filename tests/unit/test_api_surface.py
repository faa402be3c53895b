"""The public API: what ``import textedit`` offers, so that changes to it are deliberate."""

from __future__ import annotations

import textedit

PUBLIC = {
    "__version__", "SCHEMA_VERSION",
    "TextEditError", "ConfigError", "UnknownComponentError", "AmbiguousComponentError",
    "PluginLoadError", "PluginWarning", "CheckpointError", "MissingDependencyError", "InputError",
    "create_component", "create_text_encoder", "create_memory_bank", "create_localizer",
    "create_structure_extractor", "create_generator", "create_discriminator",
    "create_image_encoder", "create_model",
    "list_components", "list_models", "get_component_class", "get_registry",
    "register_text_encoder", "register_memory_bank", "register_localizer",
    "register_structure_extractor", "register_generator", "register_discriminator",
    "register_image_encoder", "register_model", "register_preset",
    "Component", "Composition", "Preset", "TextEncoder", "MemoryBank", "Localizer",
    "StructureExtractor", "Generator", "Discriminator", "ImageEncoder", "EditingModel", "GeneratingModel",
    "ComponentConfig", "CompositionConfig", "SlotSpec",
    "load_component", "load_composition", "load", "list_pretrained",
}


def test_public_names():
    assert set(textedit.__all__) == PUBLIC
    for name in textedit.__all__:
        assert getattr(textedit, name) is not None, name


def test_every_public_callable_has_a_docstring():
    undocumented = [
        name for name in textedit.__all__
        if callable(getattr(textedit, name)) and not (getattr(textedit, name).__doc__ or "").strip()
    ]
    assert not undocumented


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        textedit.nope  # noqa: B018
