"""The command line: --version, components, error handling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import textedit
from textedit.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"textedit {textedit.__version__}"


@pytest.mark.subprocess
def test_python_m_textedit():
    out = subprocess.run([sys.executable, "-m", "textedit", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and textedit.__version__ in out.stdout


def test_components_lists_every_group(capsys, toy_registered):
    assert main(["components"]) == 0
    out = capsys.readouterr().out
    for group in ("textedit.text_encoders", "textedit.memory_banks", "textedit.localizers",
                  "textedit.structure_extractors", "textedit.generators",
                  "textedit.discriminators", "textedit.image_encoders", "textedit.models",
                  "textedit.recipes"):
        assert group in out
    assert "toy_localizer" in out


def test_components_json_and_kind(capsys, toy_registered):
    assert main(["components", "--kind", "localizer", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["kind"] for r in rows} == {"localizer"}
    toy = next(r for r in rows if r["name"] == "toy_localizer")
    assert toy["builtin"] and toy["status"] == "loaded" and toy["target"] == "toys:ToyLocalizer"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: textedit" in capsys.readouterr().out


def test_resuming_without_a_plugin_the_run_used_says_what_to_install(fake_dist, tmp_path, capsys):
    import shutil

    import yaml

    from textedit.testing import TINY_MIMNET

    plugin = "from textedit.components.localizer.tlu import TLULocalizer\n\nclass Gate(TLULocalizer):\n    \"\"\"A TLU.\"\"\"\n"
    fake_dist("acme-run", "0.3", {"textedit.localizers": {"gate": "acme_run:Gate"}}, {"acme_run.py": plugin})
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "model": {**TINY_MIMNET, "localizer": {"type": "gate"}},
        "data": {"type": "synthetic", "num_images": 8, "sample_split": None},
        "batch_size": 2, "steps": 2, "output_dir": str(tmp_path / "run"), "device": "cpu",
        "ema_decay": None,
    }))
    assert main(["train", "--config", str(config), "--max-steps", "1", "--no-progress"]) == 0
    recorded = json.loads((tmp_path / "run" / "plugins.json").read_text())
    assert recorded == [{"kind": "localizer", "name": "gate", "distribution": "acme-run", "version": "0.3"}]
    shutil.rmtree(next((tmp_path / "site").glob("acme_run-*.dist-info")))  # uninstalled
    from textedit.registry.kinds import registries

    for registry in registries().values():
        registry.refresh()
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-progress"]) == 1
    assert "not installed at its versions: pip install 'acme-run==0.3'" in capsys.readouterr().err
