"""save_pretrained / from_pretrained for components and compositions."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

import textedit
from textedit import CheckpointError, ConfigError
from textedit.serialization import INDEX_NAME, load_component, load_composition

TOY_PLUGIN = '''
from toys import ToyLocalizer

class PluginLocalizer(ToyLocalizer):
    pass
'''


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 4, 5, 5, generator=g), torch.randn(2, 4, 5, 5, generator=g), torch.randn(2, 3, generator=g)


def test_component_roundtrip(toy_registered, tmp_path):
    localizer = textedit.create_localizer("toy_localizer")
    localizer.save_pretrained(tmp_path / "loc")
    assert sorted(os.listdir(tmp_path / "loc")) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "loc" / "config.json").read_text())
    assert config["type"] == "toy_localizer" and config["channels"] == 4
    assert config["_textedit"]["kind"] == "localizer"
    assert config["_textedit"]["origin"] == {"distribution": "toys", "version": None}
    again = textedit.Localizer.from_pretrained(tmp_path / "loc")
    assert type(again) is type(localizer)
    x = _inputs()
    assert torch.equal(localizer(*x).fused, again(*x).fused)


def test_composition_roundtrip_identical_outputs(toy_registered, tmp_path):
    model = textedit.create_model("toy_model", localizer={"channels": 4}, size=5)
    model.save_pretrained(tmp_path / "model")
    index = json.loads((tmp_path / "model" / INDEX_NAME).read_text())
    assert index["type"] == "toy_model"
    assert index["config"] == {"size": 5}
    assert index["slots"]["localizer"]["type"] == "toy_localizer"
    assert index["slots"]["localizer"]["kind"] == "localizer"
    assert {"distribution", "version"} <= set(index["slots"]["localizer"]["origin"])
    assert index["_textedit"]["schema_version"] == textedit.SCHEMA_VERSION
    assert index["_textedit"]["textedit_version"] == textedit.__version__
    loaded = load_composition(tmp_path / "model")
    assert loaded.config == model.config
    x = _inputs()
    assert torch.equal(model(*x), loaded(*x))
    # every slot folder is itself a loadable component
    assert type(load_component(tmp_path / "model" / "localizer")) is type(model.localizer)


def test_save_is_atomic(toy_registered, tmp_path, monkeypatch):
    model = textedit.create_model("toy_model")
    model.save_pretrained(tmp_path / "model")
    before = sorted(p.name for p in (tmp_path / "model").rglob("*"))

    import textedit.serialization as ser

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ser, "_write_json", explode)
    bigger = textedit.create_model("toy_model", localizer={"channels": 6})
    with pytest.raises(OSError, match="disk full"):
        bigger.save_pretrained(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"], "no temporary directory is left"
    monkeypatch.undo()
    assert load_composition(tmp_path / "model").config == model.config
    with pytest.raises(FileExistsError):
        model.save_pretrained(tmp_path / "model", overwrite=False)


def test_unknown_type_fails_before_weights(toy_registered, tmp_path):
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    cfg_path = tmp_path / "m" / "localizer" / "config.json"
    data = json.loads(cfg_path.read_text())
    data["type"] = "does_not_exist"
    cfg_path.write_text(json.dumps(data))
    (tmp_path / "m" / "localizer" / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="registered in code by the module 'toys'.*unknown localizer 'does_not_exist'"):
        load_composition(tmp_path / "m")


def test_missing_plugin_names_the_package(toy_registered, tmp_path, fake_dist):
    fake_dist(
        "acme-edit", "2.3",
        {"textedit.localizers": {"acme": "acme_plugin2:PluginLocalizer"}},
        {"acme_plugin2.py": TOY_PLUGIN},
    )
    model = textedit.create_model("toy_model", localizer={"type": "acme"})
    model.save_pretrained(tmp_path / "m")
    index = json.loads((tmp_path / "m" / INDEX_NAME).read_text())
    assert index["slots"]["localizer"]["origin"] == {"distribution": "acme-edit", "version": "2.3"}
    assert load_composition(tmp_path / "m").config == model.config
    # now the plug-in is gone
    from textedit.registry.kinds import get_registry

    info = next((tmp_path / "site").glob("acme_edit-*.dist-info"))
    (info / "entry_points.txt").write_text("")
    get_registry("localizer").refresh()
    with pytest.raises(CheckpointError, match=r"pip install 'acme-edit==2.3'"):
        load_composition(tmp_path / "m")


def test_weights_that_no_longer_fit_an_upgraded_plugin_name_both_versions(toy_registered, tmp_path, fake_dist):
    import sys

    from textedit.registry.kinds import get_registry

    fake_dist("acme-up", "0.3", {"textedit.localizers": {"up": "acme_up:PluginLocalizer"}}, {"acme_up.py": TOY_PLUGIN})
    textedit.create_model("toy_model", localizer={"type": "up"}).save_pretrained(tmp_path / "m")
    # version 0.5 of the plug-in adds a layer to the same config
    site = tmp_path / "site"
    info = next(site.glob("acme_up-*.dist-info"))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-up\nVersion: 0.5\n")
    info.rename(site / "acme_up-0.5.dist-info")
    (site / "acme_up.py").write_text(TOY_PLUGIN + "    def __init__(self, config=None):\n"
                                     "        super().__init__(config)\n        self.extra = torch.nn.Linear(2, 2)\n"
                                     "import torch\n")
    sys.modules.pop("acme_up", None)
    get_registry("localizer").refresh()
    with pytest.raises(CheckpointError, match=r"missing \['extra.bias', 'extra.weight'\]\); it was saved with acme-up 0.3 and acme-up 0.5 is installed.*pip install 'acme-up==0.3'"):
        load_composition(tmp_path / "m")


def test_loading_with_plugin_autoload_off_says_so(toy_registered, tmp_path, fake_dist, monkeypatch):
    fake_dist(
        "acme-edit", "2.3",
        {"textedit.localizers": {"acme": "acme_plugin4:PluginLocalizer"}},
        {"acme_plugin4.py": TOY_PLUGIN},
    )
    textedit.create_model("toy_model", localizer={"type": "acme"}).save_pretrained(tmp_path / "m")
    monkeypatch.setenv("TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    from textedit.registry.kinds import get_registry

    get_registry("localizer").refresh()
    with pytest.raises(CheckpointError, match="auto-loading is off"):
        load_composition(tmp_path / "m")


def test_loading_asks_for_the_saved_distribution(toy_registered, tmp_path, fake_dist):
    """A second plug-in with the same bare name neither makes a saved model ambiguous nor
    replaces its class; a same-named class registered in code is not substituted."""
    fake_dist(
        "acme-edit", "2.3",
        {"textedit.localizers": {"acme": "acme_plugin3:PluginLocalizer"}},
        {"acme_plugin3.py": TOY_PLUGIN},
    )
    textedit.create_model("toy_model", localizer={"type": "acme"}).save_pretrained(tmp_path / "m")
    fake_dist(
        "other-edit", "1.0",
        {"textedit.localizers": {"acme": "other_plugin3:PluginLocalizer"}},
        {"other_plugin3.py": TOY_PLUGIN},
    )
    with pytest.raises(textedit.AmbiguousComponentError):
        textedit.create_localizer("acme")
    loaded = load_composition(tmp_path / "m")
    assert type(loaded.localizer).__module__ == "acme_plugin3"
    # acme-edit uninstalled: the other plug-in's "acme" is another class, so it is refused
    info = next((tmp_path / "site").glob("acme_edit-*.dist-info"))
    (info / "entry_points.txt").write_text("")
    from textedit.registry.kinds import get_registry

    get_registry("localizer").refresh()
    with pytest.raises(CheckpointError, match=r"pip install 'acme-edit==2.3'.*other_plugin3:PluginLocalizer"):
        load_composition(tmp_path / "m")


def test_a_class_registered_in_code_may_move_to_another_module(toy_registered, tmp_path, monkeypatch):
    """A component a script registered in ``__main__`` loads once the same class is
    registered by a module (what the error message advises); another name is refused."""
    import sys
    import types

    from textedit.registry.kinds import get_registry
    from toys import ToyLocalizer

    registry = get_registry("localizer")
    script = types.ModuleType("__main__")
    moved = type("MovedLocalizer", (ToyLocalizer,), {"__module__": "__main__"})
    script.MovedLocalizer = moved
    monkeypatch.setitem(sys.modules, "__main__", script)
    registry.add("moved_loc", moved, force=True)
    try:
        textedit.create_model("toy_model", localizer={"type": "moved_loc"}).save_pretrained(tmp_path / "m")
        config = json.loads((tmp_path / "m" / "localizer" / "config.json").read_text())
        assert config["_textedit"]["class"] == "__main__:MovedLocalizer"
        module = types.ModuleType("my_components")
        again = type("MovedLocalizer", (ToyLocalizer,), {"__module__": "my_components"})
        module.MovedLocalizer = again
        monkeypatch.setitem(sys.modules, "my_components", module)
        registry.add("moved_loc", again, force=True)
        assert type(load_composition(tmp_path / "m").localizer) is again
        other = type("OtherLocalizer", (ToyLocalizer,), {"__module__": "my_components"})
        registry.add("moved_loc", other, force=True)
        with pytest.raises(CheckpointError, match="__main__"):
            load_composition(tmp_path / "m")
    finally:
        registry._builtins.pop("moved_loc", None)


def test_weights_must_fit_strictly(toy_registered, tmp_path):
    textedit.create_model("toy_model").save_pretrained(tmp_path / "small")
    textedit.create_model("toy_model", localizer={"channels": 6}).save_pretrained(tmp_path / "big")
    os.replace(tmp_path / "big" / "localizer" / "model.safetensors", tmp_path / "small" / "localizer" / "model.safetensors")
    with pytest.raises(CheckpointError, match="shape mismatch.*proj.weight"):
        load_composition(tmp_path / "small")


def test_saving_replaces_only_a_saved_model_and_refuses_what_would_be_lost(toy_registered, tmp_path, monkeypatch):
    model = textedit.create_model("toy_model")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("steps: 10\n")
    with pytest.raises(textedit.InputError, match=r"refusing to replace .*run: .*\(it holds checkpoints, config.yaml\)"):
        model.save_pretrained(run)
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(textedit.InputError, match="is a file; save to a folder"):
        model.save_pretrained(tmp_path / "weights.bin")
    for dtype in (torch.int8, "float16"):
        with pytest.raises(textedit.InputError, match="dtype must be a floating torch.dtype"):
            model.save_pretrained(tmp_path / "d", dtype=dtype)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "weights.bin"], "a refused save writes nothing"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yaml"]
    (tmp_path / "empty").mkdir()
    model.save_pretrained(tmp_path / "empty")  # an empty folder, or a saved model, is replaced
    model.save_pretrained(tmp_path / "empty")
    monkeypatch.chdir(tmp_path / "empty")
    model.save_pretrained(".")  # the current folder is named by its absolute path
    assert load_composition(tmp_path / "empty").config == model.config
    with pytest.raises(NotADirectoryError, match="weights.bin is a file"):
        model.save_pretrained(tmp_path / "weights.bin" / "model")


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_replaced_model_leaves_nothing_beside_it_and_an_interrupted_one_is_found(toy_registered, tmp_path, monkeypatch, exchange):
    import textedit.utils.atomic as atomic

    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    wider = textedit.create_model("toy_model", localizer={"channels": 6})
    wider.save_pretrained(tmp_path / "m")
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert load_composition(tmp_path / "m").config == wider.config

    def fails(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(atomic.shutil, "rmtree", fails)
    with pytest.warns(UserWarning, match=r"m was replaced, but its previous content could not be deleted from .*\.m\.(tmp|old)-"):
        wider.save_pretrained(tmp_path / "m")
    monkeypatch.undo()
    for left in tmp_path.glob(".m.*"):  # the copy the warning named (random name): deleted by hand
        shutil.rmtree(left)

    aside = tmp_path / ".m.old-12345678"  # what a save killed between its two renames leaves
    (tmp_path / "m").rename(aside)
    for load in (load_composition, textedit.load):
        with pytest.raises(CheckpointError, match=r"a save replacing it was interrupted, .* at .*\.m\.old-12345678: rename it back"):
            load(tmp_path / "m")


def test_edited_index_files_are_named_not_crashed_on(toy_registered, tmp_path):
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / INDEX_NAME
    index = json.loads(path.read_text())
    for change, message in (
        ({"config": [1, 2]}, "'config' must be a JSON object, found list"),
        ({"_textedit": {**index["_textedit"], "schema_version": -5}}, "no schema_version .* the file is damaged"),
    ):
        path.write_text(json.dumps({**index, **change}))
        with pytest.raises(CheckpointError, match=message):
            load_composition(tmp_path / "m")


def test_damaged_and_foreign_files(toy_registered, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_composition(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="has no model_index.json"):
        load_composition(tmp_path / "empty")
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError, match="holds a whole model"):
        load_component(tmp_path / "m")
    (tmp_path / "m" / "localizer" / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="damaged"):
        load_composition(tmp_path / "m")
    (tmp_path / "m" / INDEX_NAME).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_composition(tmp_path / "m")


def test_newer_schema_is_refused(toy_registered, tmp_path):
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / INDEX_NAME
    index = json.loads(path.read_text())
    index["_textedit"]["schema_version"] = textedit.SCHEMA_VERSION + 1
    index["_textedit"]["textedit_version"] = "9.0.0"
    path.write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match=r"written by textedit 9.0.0.*pip install -U textedit"):
        load_composition(tmp_path / "m")


def test_invalid_saved_config_reports_the_slot_path(toy_registered, tmp_path):
    textedit.create_model("toy_model").save_pretrained(tmp_path / "m")
    path = tmp_path / "m" / "localizer" / "config.json"
    data = json.loads(path.read_text())
    data["channels"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"localizer\.channels: Input should be greater than 0"):
        load_composition(tmp_path / "m")


def test_half_precision_storage(toy_registered, tmp_path):
    from textedit.serialization import save_composition

    model = textedit.create_model("toy_model")
    save_composition(model, tmp_path / "half", dtype=torch.float16)
    loaded = load_composition(tmp_path / "half")
    assert loaded.localizer.proj.weight.dtype == torch.float32
    torch.testing.assert_close(loaded.localizer.proj.weight, model.localizer.proj.weight, atol=1e-3, rtol=1e-3)
    assert model.localizer.proj.weight.dtype == torch.float32, "saving must not change the model"


def test_with_components_builds_a_variant(toy_registered):
    model = textedit.create_model("toy_model")
    other = textedit.create_localizer("toy_localizer", channels=4)
    variant = model.with_components(localizer=other)
    assert variant.localizer is other and model.localizer is not other
    for wrong in ("toy_localizer", None, torch.nn.Linear(2, 2)):
        with pytest.raises(textedit.TextEditError, match=r"slot 'localizer' of .* needs a localizer \(build one with textedit.create_localizer"):
            model.with_components(localizer=wrong)
