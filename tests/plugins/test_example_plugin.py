"""The real plug-in package in plugins/ is discovered through its entry points.

The package is pip-installed into a temporary directory and used from subprocesses whose
``PYTHONPATH`` holds it, so that discovery goes through the installed ``entry_points.txt``,
never through importing the package directly, and the test environment is left untouched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import textedit

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "textedit-plugin-example"


#: every test here installs the plug-in into a folder and runs a fresh interpreter
pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(PLUGIN)],
        check=True, capture_output=True, text=True,
    )
    return site


def run_python(pythonpath: str | Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``pythonpath`` and plug-in auto-loading on."""
    environ = {**os.environ, "PYTHONPATH": str(pythonpath)}
    environ.pop("TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=environ, cwd=tempfile.gettempdir(),
    )


def test_components_lists_the_plugin_with_its_distribution(plugin_site):
    out = run_python(plugin_site, "from textedit.cli import main; main(['components', '--json'])")
    assert out.returncode == 0, out.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(out.stdout)}
    row = rows[("localizer", "spatial_prior")]
    assert row["distribution"] == "textedit-plugin-example" and row["version"] == "0.1.0"
    assert row["status"] == "loaded" and not row["builtin"]
    assert rows[("model", "mimnet_64_spatial_prior")]["distribution"] == "textedit-plugin-example"


def test_composition_uses_the_plugin_by_name_and_roundtrips(plugin_site, tmp_path):
    code = f"""
        import sys, torch, textedit
        assert "textedit_plugin_example" not in sys.modules
        a = textedit.create_model("mimnet_64", localizer={{"type": "spatial_prior"}})
        b = textedit.create_model("mimnet_64_spatial_prior")
        assert type(a.localizer).__name__ == type(b.localizer).__name__ == "SpatialPriorLocalizer"
        assert "textedit_plugin_example" in sys.modules
        a.save_pretrained({str(tmp_path / 'saved')!r})
        c = textedit.load_composition({str(tmp_path / 'saved')!r})
        image = torch.rand(1, 3, a.config.image_size, a.config.image_size) * 2 - 1
        a.eval(); c.eval()
        assert torch.equal(a.edit(image, ["a red bird"]).fine, c.edit(image, ["a red bird"]).fine)
        # the preset names its slots by qualified name; a reload keeps them (its config is equal)
        assert b.config.slot("localizer").type == "textedit-plugin-example:spatial_prior"
        b.save_pretrained({str(tmp_path / 'preset')!r})
        assert textedit.load_composition({str(tmp_path / 'preset')!r}).config == b.config
        print("ok")
    """
    out = run_python(plugin_site, code)
    assert out.returncode == 0, out.stderr
    index = json.loads((tmp_path / "saved" / "model_index.json").read_text())
    assert index["slots"]["localizer"]["origin"] == {"distribution": "textedit-plugin-example", "version": "0.1.0"}


def test_missing_plugin_message_names_the_package(plugin_site, tmp_path):
    saved = tmp_path / "saved"
    out = run_python(plugin_site, f"""
        import textedit
        textedit.create_model("mimnet_64", localizer="spatial_prior").save_pretrained({str(saved)!r})
    """)
    assert out.returncode == 0, out.stderr
    # this process has no such plug-in: the saved model says which package to install
    with pytest.raises(textedit.TextEditError, match=re.escape("pip install 'textedit-plugin-example==0.1.0'")):
        textedit.load_composition(saved)


def test_plugins_own_tests_pass(plugin_site):
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        capture_output=True, text=True, env=env, cwd=PLUGIN,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_broken_entry_point_breaks_nothing_else(plugin_site, tmp_path):
    broken = tmp_path / "broken_site"
    info = broken / "textedit_broken-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: textedit-broken\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(
        "[textedit.localizers]\nbroken = textedit_broken_missing_module:Nothing\n"
        "[textedit.models]\nbroken_model = textedit_broken_missing_module:Nothing\n"
    )
    out = run_python(f"{plugin_site}{os.pathsep}{broken}", """
        import warnings, textedit
        from textedit.cli import main
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = textedit.create_model("mimnet_64_spatial_prior")
            try:
                textedit.create_localizer("broken")
            except textedit.PluginLoadError as exc:
                assert isinstance(exc.__cause__, ModuleNotFoundError), exc.__cause__
                print("ERROR:", exc)
        assert sum("textedit-broken:broken" in str(w.message) for w in caught) == 1
        assert main(["components", "--kind", "localizer"]) == 1  # a failed plug-in: status 1
        assert main(["components", "--kind", "generator"]) == 0  # none failed among these
    """)
    assert out.returncode == 0, out.stderr
    assert "ERROR: localizer 'textedit-broken:broken'" in out.stdout
    assert "[FAILED]" in out.stdout and "spatial_prior" in out.stdout
