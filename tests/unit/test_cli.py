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
