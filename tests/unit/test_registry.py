"""The registry: built-ins, entry-point plug-ins, clash rules, broken plug-ins, errors."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

import textedit
from textedit.errors import (
    AmbiguousComponentError,
    PluginLoadError,
    PluginWarning,
    UnknownComponentError,
)
from textedit.registry.kinds import ENTRY_POINT_GROUPS, get_registry

TOY_PLUGIN = '''
from toys import ToyLocalizer

class PluginLocalizer(ToyLocalizer):
    """A localizer from a plug-in."""

class NotALocalizer:
    pass

class HalfALocalizer(ToyLocalizer.__mro__[1]):
    """Subclasses the Localizer interface but implements none of it."""
    config_class = ToyLocalizer.config_class
'''


def test_nine_groups_are_named_after_the_package():
    assert ENTRY_POINT_GROUPS == {
        "text_encoder": "textedit.text_encoders",
        "memory_bank": "textedit.memory_banks",
        "localizer": "textedit.localizers",
        "structure_extractor": "textedit.structure_extractors",
        "generator": "textedit.generators",
        "discriminator": "textedit.discriminators",
        "image_encoder": "textedit.image_encoders",
        "model": "textedit.models",
        "recipe": "textedit.recipes",
    }


@pytest.mark.subprocess
def test_import_textedit_is_cheap():
    code = "import sys, textedit; print('torch' in sys.modules, 'textedit.components' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_builtin_registration_and_lookup(toy_registered):
    registry = get_registry("localizer")
    assert registry.get("toy_localizer") is toy_registered.ToyLocalizer
    entry = registry.resolve("toy_localizer")
    assert entry.builtin and entry.status == "loaded"
    assert "toy_localizer" in textedit.list_components("localizer")


def test_duplicate_registration_raises_unless_forced(toy_registered):
    registry = get_registry("localizer")

    class Other(toy_registered.ToyLocalizer):
        pass

    with pytest.raises(ValueError, match="already registered.*force=True"):
        registry.add("toy_localizer", Other)
    registry.add("toy_localizer", Other, force=True)
    assert registry.get("toy_localizer") is Other


def test_register_rejects_wrong_kind():
    with pytest.raises(TypeError, match="subclass of textedit.interfaces.localizer.Localizer"):
        get_registry("localizer").add("nope", dict)


def test_unknown_name_lists_available_and_close_matches(toy_registered):
    with pytest.raises(UnknownComponentError) as info:
        textedit.create_localizer("toy_localiser")
    message = str(info.value)
    assert "Did you mean 'toy_localizer'" in message
    assert "Available localizers:" in message and "toy_localizer" in message
    assert "textedit.localizers" in message


def test_plugin_discovered_through_entry_points_lazily(toy_registered, fake_dist):
    fake_dist(
        "acme-edit",
        "2.3",
        {"textedit.localizers": {"acme": "acme_plugin:PluginLocalizer"}},
        {"acme_plugin.py": TOY_PLUGIN},
    )
    registry = get_registry("localizer")
    assert "acme" in registry.names()
    assert "acme_plugin" not in sys.modules, "listing must not import the plug-in"
    entry = registry.resolve("acme")
    assert (entry.distribution, entry.version, entry.status) == ("acme-edit", "2.3", "not loaded")
    cls = registry.get("acme")
    assert cls.__name__ == "PluginLocalizer" and entry.status == "loaded"
    assert registry.get("acme-edit:acme") is cls
    assert registry.get("acme_edit:acme") is cls, "distribution names are normalised"
    localizer = textedit.create_localizer({"type": "acme", "channels": 2})
    assert localizer.channels == 2


def test_a_plugin_config_instance_builds_its_component_before_the_plugin_is_loaded(
    toy_registered, fake_dist
):
    source = (
        "from toys import ToyLocalizer, ToyLocalizerConfig\n"
        "class AcmeConfig(ToyLocalizerConfig):\n    pass\n"
        "class AcmeLocalizer(ToyLocalizer):\n    config_class = AcmeConfig\n"
    )
    fake_dist("acme-edit", "2.3", {"textedit.localizers": {"acme": "acme_cfg:AcmeLocalizer"}}, {"acme_cfg.py": source})
    import acme_cfg  # the user imports the config class; the registry has not loaded the plug-in

    assert get_registry("localizer").resolve("acme").status == "not loaded"
    localizer = textedit.create_localizer(acme_cfg.AcmeConfig(channels=3))
    assert type(localizer) is acme_cfg.AcmeLocalizer and localizer.channels == 3


def test_builtin_owns_its_bare_name(toy_registered, fake_dist):
    fake_dist(
        "shadow",
        "1.0",
        {"textedit.localizers": {"toy_localizer": "shadow_plugin:PluginLocalizer"}},
        {"shadow_plugin.py": TOY_PLUGIN},
    )
    registry = get_registry("localizer")
    assert registry.get("toy_localizer") is toy_registered.ToyLocalizer
    assert registry.get("shadow:toy_localizer").__name__ == "PluginLocalizer"
    assert "shadow:toy_localizer" in registry.names()


def test_two_plugins_with_one_name_are_ambiguous(toy_registered, fake_dist):
    for dist in ("first-dist", "second-dist"):
        module = dist.replace("-", "_")
        fake_dist(
            dist, "1.0",
            {"textedit.localizers": {"same": f"{module}:PluginLocalizer"}},
            {f"{module}.py": TOY_PLUGIN},
        )
    registry = get_registry("localizer")
    with pytest.raises(AmbiguousComponentError) as info:
        registry.get("same")
    assert "'first-dist:same'" in str(info.value) and "'second-dist:same'" in str(info.value)
    assert registry.get("first-dist:same") is not registry.get("second-dist:same")
    assert {"first-dist:same", "second-dist:same"} <= set(registry.names())


@pytest.mark.parametrize(
    ("module_source", "target", "cause"),
    [
        ("raise ImportError('no such dependency: quux')\n", "broken_plugin:PluginLocalizer", ImportError),
        (TOY_PLUGIN, "broken_plugin:NotALocalizer", TypeError),
        (TOY_PLUGIN, "broken_plugin:Missing", AttributeError),
        ("import sys\nsys.exit('usage: parses sys.argv on import')\n", "broken_plugin:X", SystemExit),
        (TOY_PLUGIN, "broken_plugin:HalfALocalizer", TypeError),
        (TOY_PLUGIN, "broken_plugin:Plugin-Localizer", ValueError),
    ],
    ids=["import-error", "not-a-subclass", "missing-object", "exits-on-import", "abstract", "unparseable-target"],
)
def test_broken_plugin_warns_once_and_breaks_nothing_else(
    toy_registered, fake_dist, module_source, target, cause
):
    fake_dist(
        "broken-dist", "0.1",
        {"textedit.localizers": {"broken": target}},
        {"broken_plugin.py": module_source},
    )
    registry = get_registry("localizer")
    with pytest.warns(PluginWarning, match="broken-dist:broken"):
        with pytest.raises(PluginLoadError) as info:
            registry.get("broken")
    assert isinstance(info.value.__cause__, cause)
    assert "broken-dist" in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)  # the second time: no new warning
        with pytest.raises(PluginLoadError):
            registry.get("broken")
    entry = registry.resolve("broken")
    assert entry.status == "failed" and isinstance(entry.error, cause)
    # everything else keeps working
    assert registry.get("toy_localizer") is toy_registered.ToyLocalizer
    assert "broken" in registry.names()
    with pytest.raises(textedit.UnknownComponentError) as unknown:
        registry.get("brokn")
    listing = str(unknown.value)
    assert "failed to load: broken" in listing
    assert "broken," not in listing.split("Available")[1].split("failed")[0], "not listed as available"


def test_a_broken_model_plugin_leaves_the_model_list_of_the_test_kit_whole(fake_dist):
    from textedit.testing import registered_models

    before = registered_models()
    fake_dist(
        "broken-model", "0.1",
        {"textedit.models": {"broken_model": "broken_model_plugin:Model"}},
        {"broken_model_plugin.py": "import nonexistent_dependency_xyz\n"},
    )
    assert registered_models() == before
    assert "mimnet" in before and all(not name.startswith("broken") for name in before)


def test_autoload_can_be_switched_off(toy_registered, fake_dist, monkeypatch):
    fake_dist(
        "acme-edit", "2.3",
        {"textedit.localizers": {"acme": "acme_plugin:PluginLocalizer"}},
        {"acme_plugin.py": TOY_PLUGIN},
    )
    monkeypatch.setenv("TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = get_registry("localizer")
    registry.refresh()
    assert "acme" not in registry.names()
    assert "toy_localizer" in registry.names()
    with pytest.raises(UnknownComponentError, match="auto-loading is off"):
        registry.get("acme")


def test_a_preset_of_an_unknown_composition_names_the_preset_and_its_plugin(fake_dist):
    source = "from textedit import Preset\nP = Preset(name='typo_64', composition='mimnett', config={})\n"
    fake_dist("typo-presets", "0.3", {"textedit.models": {"typo_64": "typo_presets:P"}}, {"typo_presets.py": source})
    with pytest.warns(PluginWarning), pytest.raises(PluginLoadError, match=r"preset 'typo_64' \(from typo-presets 0.3\).*'mimnett'.*Did you mean 'mimnet'"):
        textedit.create_model("typo_64")


def test_list_components_covers_every_kind():
    listing = textedit.list_components()
    assert set(listing) == set(ENTRY_POINT_GROUPS)
    with pytest.raises(ValueError, match="unknown component kind"):
        textedit.list_components("widget")


def test_code_registration_names_its_distribution_reading_metadata_once(fake_dist, tmp_path, monkeypatch):
    # A component registered in code by a third-party package carries that package's
    # distribution and version. Finding them reads every installed distribution's file list
    # (half a second with torch installed): once per sys.path, not once per registration.
    import importlib
    from importlib import metadata

    from textedit.registry import registry as registry_module

    fake_dist("acme-code", "0.7", None, {"acme_code.py": TOY_PLUGIN})
    (tmp_path / "site" / "acme_code-0.7.dist-info" / "top_level.txt").write_text("acme_code\n")
    calls = []
    real = metadata.packages_distributions
    monkeypatch.setattr(metadata, "packages_distributions", lambda: calls.append(1) or real())
    registry_module._packages_distributions.cache_clear()
    cls = importlib.import_module("acme_code").PluginLocalizer
    registry = get_registry("localizer")
    try:
        first = registry.add("acme_code_one", cls)
        second = registry.add("acme_code_two", cls)
    finally:
        registry.unregister("acme_code_one")
        registry.unregister("acme_code_two")
    assert (first.distribution, first.version) == (second.distribution, second.version) == ("acme-code", "0.7")
    assert len(calls) == 1


def test_a_package_with_a_damaged_entry_points_file_does_not_stop_discovery(tmp_path, monkeypatch):
    import sys

    from textedit.errors import PluginWarning
    from textedit.registry.entry_points import discover

    info = tmp_path / "unrelated_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: unrelated-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[console_scripts]\nfoo = a:b\nfoo = a:c\n")  # configparser refuses it
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    (info / "entry_points.txt").write_text("[console_scripts]\nfoo = a:b\nfoo = a:c\nbar = a:d\n")
    with pytest.warns(PluginWarning, match="one package at a time"), pytest.warns(PluginWarning, match=r"skipped the entry points \['foo'\] .* declared twice"):
        entries = discover("console_scripts")
    mine = [e.name for e in entries if e.distribution == "unrelated-pkg"]
    assert mine == ["bar"]  # the duplicated one is skipped, the rest of the package read


def test_an_abstract_plugin_class_names_what_it_lacks(toy_registered, fake_dist):
    fake_dist("half-dist", "0.1", {"textedit.localizers": {"half": "half_plugin:HalfALocalizer"}}, {"half_plugin.py": TOY_PLUGIN})
    with pytest.warns(PluginWarning), pytest.raises(PluginLoadError, match=r"HalfALocalizer is abstract: implement .*forward"):
        get_registry("localizer").get("half")


def test_an_unparseable_entry_point_is_listed_as_failed_with_what_to_fix(fake_dist):
    from textedit.cli.components import collect

    fake_dist("typo-dist", "0.2", {"textedit.localizers": {"dotted": "typo_plugin.Thing extra"}})
    rows = [r for r in collect("localizer") if r["distribution"] == "typo-dist"]
    assert [(r["name"], r["status"]) for r in rows] == [("dotted", "failed")]
    assert "'module.path:object' syntax" in rows[0]["error"] and "typo-dist" in rows[0]["error"]


def test_a_plugin_warning_points_at_the_callers_code(toy_registered, fake_dist):
    fake_dist("broken-dist", "0.1", {"textedit.localizers": {"broken": "nowhere_xyz:X"}})
    with pytest.warns(PluginWarning) as record, pytest.raises(PluginLoadError):
        textedit.create_localizer("broken")
    assert record[0].filename == __file__


def test_a_legacy_egg_info_plugin_reports_its_recorded_version(tmp_path, monkeypatch):
    import importlib

    from textedit.registry.entry_points import discover

    info = tmp_path / "legacy_plugin-0.4.1-py3.11.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy-plugin\nVersion: 0.4.1\n")
    (info / "entry_points.txt").write_text("[textedit.localizers]\nold = legacy_plugin:L\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    (entry,) = [e for e in discover("textedit.localizers") if e.distribution == "legacy-plugin"]
    assert entry.version == "0.4.1"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("P = Preset(name='p_64', composition='mimnett', config={})", r"'mimnett', which is not registered"),
        ("P = Preset(name='p_64', composition='mimnet_64', config={})", r"preset 'p_64' \(from bad-presets 0.1\).*\n.*composition: 'mimnet_64' is a preset, not a composition: name its composition 'mimnet'"),
        ("def boom():\n    raise KeyError('vocabulary.txt')\nP = Preset(name='p_64', composition='mimnet', config=boom)",
         r"preset 'p_64' \(bad_presets\).*\n.*config: the preset's config callable raised KeyError"),
        ("P = Preset(name='p_64', composition='mimnet', config=lambda: ['not', 'a', 'mapping'])", r"must be a mapping .*got list"),
        ("P = Preset(name='p_64', composition='mimnet', config={'image_size': 'huge'})", r"image_size"),
    ],
    ids=["unknown-composition", "points-at-a-preset", "config-raises", "config-not-a-mapping", "config-invalid"],
)
def test_a_broken_plugin_preset_is_listed_as_failed_and_names_itself(fake_dist, source, message):
    from textedit.cli.components import collect

    fake_dist("bad-presets", "0.1", {"textedit.models": {"p_64": "bad_presets:P"}},
              {"bad_presets.py": "from textedit import Preset\n" + source + "\n"})
    (row,) = [r for r in collect("model") if r["distribution"] == "bad-presets"]
    assert row["status"] == "failed"
    assert re.search(message, row["error"]), row["error"]
    with pytest.raises(PluginLoadError, match=message):
        textedit.create_model("p_64")


def test_components_warns_of_a_misspelt_entry_point_group(fake_dist, capsys):
    from textedit.cli import main

    fake_dist("typo-group", "0.1", {"textedit.localiser": {"x": "x:X"}})
    assert main(["components", "--kind", "localizer", "--no-import"]) == 0
    err = capsys.readouterr().err
    assert "typo-group declare(s) entry points in the group 'textedit.localiser'" in err
    assert "did you mean 'textedit.localizers'?" in err


def test_components_widens_its_columns_for_long_names(toy_registered, fake_dist, capsys):
    from textedit.cli import main

    long = "a_localizer_with_a_name_much_longer_than_the_column"
    fake_dist("a-distribution-with-a-long-name-too", "10.20.30", {"textedit.localizers": {long: "acme_long:PluginLocalizer"}},
              {"acme_long.py": TOY_PLUGIN})
    assert main(["components", "--kind", "localizer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if long in line)
    tlu = next(line for line in lines if line.startswith("  tlu "))
    assert row.index(" a-distribution-with-a-long-name-too 10.20.30 ") == tlu.index(" textedit ") > row.index(long) + len(long) - 1


def test_a_plugin_preset_that_shares_a_builtins_name_is_checked_itself(fake_dist):
    from textedit.cli.components import collect

    source = "from textedit import Preset\nP = Preset(name='mimnet_64', composition='mimnett', config={})\n"
    fake_dist("shadow-presets", "0.1", {"textedit.models": {"mimnet_64": "shadow_presets:P"}}, {"shadow_presets.py": source})
    (row,) = [r for r in collect("model") if r["distribution"] == "shadow-presets"]
    assert row["status"] == "failed" and "'mimnett'" in row["error"]
    assert get_registry("model").get("mimnet_64").composition == "mimnet"  # the built-in keeps its name


def test_an_unknown_name_points_at_a_misspelt_group(fake_dist):
    fake_dist("typo-group2", "0.1", {"textedit.localiser": {"mine": "x:X"}, "textedit.generator": {"g": "x:Y"}})
    with pytest.raises(UnknownComponentError) as info:
        get_registry("localizer").get("mine")
    assert "typo-group2 declare(s) entry points in 'textedit.localiser'" in str(info.value)
    assert "textedit.generator'" not in str(info.value)  # that one is the generators' group misspelt


def test_a_dotted_target_is_told_to_use_a_colon(toy_registered, fake_dist):
    fake_dist("dotted-dist", "0.1", {"textedit.localizers": {"dotted": "dotted_plugin.PluginLocalizer"}},
              {"dotted_plugin.py": TOY_PLUGIN})
    with pytest.warns(PluginWarning), pytest.raises(PluginLoadError, match=r"did the package mean 'dotted_plugin:PluginLocalizer'\?\)\. Reinstall"):
        get_registry("localizer").get("dotted")


def test_replacing_a_builtin_in_code_warns():
    registry = get_registry("localizer")
    builtin = registry.get("everywhere")

    class Mine(builtin):
        """A user's localizer."""

    Mine.__module__ = "someone_elses_package"
    try:
        with pytest.warns(PluginWarning, match=r"someone_elses_package replaces textedit's built-in localizer 'everywhere'"):
            registry.add("everywhere", Mine, force=True)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PluginWarning)  # putting textedit's own back: no warning
            registry.add("everywhere", builtin, force=True)
    assert registry.get("everywhere") is builtin
