"""Configs: strict fields, slot specs validated by the slot's component, paths in errors, I/O."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from textedit.config import (
    ComponentSpec,
    apply_overrides,
    load_config,
    read_config_file,
    save_config,
    validate_config,
    write_config_file,
)
from textedit.errors import ConfigError


def test_component_config_is_strict_and_frozen(toy_registered):
    cfg = toy_registered.ToyLocalizerConfig(channels=8)
    with pytest.raises(ValidationError):
        cfg.channels = 3
    with pytest.raises(ConfigError, match=r"localizer\.colour: unknown field; the fields here: channels, texture_dim"):
        validate_config(toy_registered.ToyLocalizerConfig, {"colour": 1}, prefix="localizer")
    with pytest.raises(ConfigError, match=r"localizer\.channel: unknown field; did you mean 'channels'\?"):
        validate_config(toy_registered.ToyLocalizerConfig, {"channel": 1}, prefix="localizer")


def test_a_training_configs_misspelt_field_is_told_its_name_and_a_validators_message_reads_alone():
    from textedit.training.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        validate_config(TrainConfig, {"batchsize": 2, "data": {"num_worker": 2}, "steps": 1})
    assert ("batchsize", "unknown field; did you mean 'batch_size'?") in info.value.errors
    assert ("data.num_worker", "unknown field; did you mean 'num_workers'?") in info.value.errors
    with pytest.raises(ConfigError) as info:
        validate_config(TrainConfig, {"steps": None})
    assert info.value.errors[0][1].startswith("give exactly one of steps and epochs")


def test_slot_accepts_name_mapping_or_spec(toy_registered):
    Config = toy_registered.ToyModelConfig
    by_default = Config()
    by_name = Config(localizer="toy_localizer")
    by_mapping = Config(localizer={"type": "toy_localizer", "channels": 4})
    assert isinstance(by_default.localizer, ComponentSpec)
    assert by_default == by_name == by_mapping
    assert Config(localizer=by_mapping.localizer) == by_mapping
    assert by_default.to_dict() == {"localizer": {"type": "toy_localizer", "channels": 4, "texture_dim": 3}, "size": 4}


def test_nested_error_paths(toy_registered):
    Config = toy_registered.ToyModelConfig
    with pytest.raises(ConfigError) as info:
        validate_config(Config, {"localizer": {"type": "toy_localizer", "channels": -3}, "size": 0})
    assert ("localizer.channels", "Input should be greater than 0 (got -3)") in info.value.errors
    assert ("size", "Input should be greater than 0 (got 0)") in info.value.errors
    assert "localizer.channels: Input should be greater than 0 (got -3)" in str(info.value)


def test_unknown_type_in_slot_names_the_path(toy_registered):
    with pytest.raises(ConfigError) as info:
        validate_config(toy_registered.ToyModelConfig, {"localizer": {"type": "toy_localizr"}})
    path, message = info.value.errors[0]
    assert path == "localizer.type"
    assert "Did you mean 'toy_localizer'" in message


def test_missing_type_in_slot(toy_registered):
    with pytest.raises(ConfigError, match=r"localizer\.type: Field required"):
        validate_config(toy_registered.ToyModelConfig, {"localizer": {"channels": 3}})


def test_spec_replace_revalidates(toy_registered):
    spec = toy_registered.ToyModelConfig().localizer
    assert spec.replace(channels=9).config.channels == 9
    with pytest.raises(ConfigError, match="localizer.channels: Input should be greater than 0"):
        spec.replace(channels=0)  # a ConfigError with the path, not pydantic's error


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_save_and_load_roundtrip(toy_registered, tmp_path, suffix):
    config = toy_registered.ToyModelConfig(localizer={"type": "toy_localizer", "channels": 7}, size=5)
    path = tmp_path / f"model{suffix}"
    save_config(config, path)
    assert load_config(path, toy_registered.ToyModelConfig) == config


def test_load_errors_name_the_file(toy_registered, tmp_path):
    path = tmp_path / "bad.yaml"
    write_config_file(path, {"size": -1})
    with pytest.raises(ConfigError, match=r"in .*bad.yaml:\n  size: Input should be greater than 0"):
        load_config(path, toy_registered.ToyModelConfig)
    (tmp_path / "broken.yaml").write_text("size: [1,\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        read_config_file(tmp_path / "broken.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a mapping"):
        read_config_file(tmp_path / "list.json")
    with pytest.raises(ConfigError, match="unsupported config suffix"):
        (tmp_path / "c.toml").write_text("a = 1")
        read_config_file(tmp_path / "c.toml")


def test_overrides_from_the_command_line():
    data = {"model": {"generator": {"type": "mimnet", "channels": 32}}, "lr": 0.1}
    out = apply_overrides(data, ["model.generator.channels=64", "lr=2e-4", "steps=10", "tags=[a, b]"])
    assert out == {"model": {"generator": {"type": "mimnet", "channels": 64}}, "lr": 2e-4, "steps": 10, "tags": ["a", "b"]}
    assert data["model"]["generator"]["channels"] == 32, "overrides copy, never mutate"
    with pytest.raises(ConfigError, match="key.subkey=value"):
        apply_overrides(data, ["lr"])
    # one key each: the mapping's other keys stay (a data section's, a slot's)
    data = {"data": {"type": "synthetic", "reword": 0.5, "num_workers": 1}}
    assert apply_overrides(data, ["data.type=packed", "data.root=p"]) == {"data": {"type": "packed", "reword": 0.5, "num_workers": 1, "root": "p"}}


def test_a_preset_override_that_a_slot_refuses_is_a_config_error():
    import textedit

    with pytest.raises(ConfigError, match=r"generator.*image_size \(100\) and feature_size \(8\) must be powers of two"):
        textedit.create_model("mimnet_64", image_size=100)


def test_a_slot_given_another_type_replaces_the_slot_whatever_layer_named_it():
    import textedit
    from textedit.registry.api import resolve_model_config
    from textedit.testing import TINY_MIMNET

    # TINY_MIMNET names the generator's widths without a type (the preset gives it)
    _, config = resolve_model_config(TINY_MIMNET, generator={"type": "tagan"})
    assert config.generator.type == "tagan"
    assert "channels" not in config.generator.config.model_fields_set  # MIM-Net's widths are not carried over
    # a slot named by its own type keeps the preset's fields, as a mapping or a bare name
    preset_channels = resolve_model_config("mimnet_64")[1].generator.config.channels
    assert resolve_model_config("mimnet_64", generator="mimnet")[1].generator.config.channels == preset_channels
    assert resolve_model_config("mimnet_64", generator={"type": "mimnet"})[1].generator.config.channels == preset_channels
    assert type(textedit.create_model(TINY_MIMNET, generator={"type": "tagan"}).generator).__name__ == "TAGANGenerator"
