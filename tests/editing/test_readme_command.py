"""The README's first command: install, then `textedit edit` on an example image.

With the bundled model present it runs exactly as written; the same command line also runs
with a stand-in (``--model``) so that it is tested before the trained model is bundled.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import textedit
from textedit.cli import main
from textedit.pretrained import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = DEFAULT_MODEL in textedit.list_pretrained()


def readme_edit_command() -> list[str]:
    """The `textedit edit ...` step of the README's first bash block, as argv."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)[0].strip()
    steps = first.split(" && ")
    assert steps[:4] == [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install torch==2.14.1 torchvision==0.29.1",
        'pip install -e ".[mimnet]"',
    ], "the README's first command keeps its install prefix"
    argv = shlex.split(steps[-1])
    assert argv[:2] == ["textedit", "edit"] and "--explain" in argv
    return argv[1:]


def _run(argv, tmp_path, monkeypatch, capsys) -> tuple[Path, Path, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    edited = Path(re.search(r"edited image: (.+)", stdout).group(1))
    figure = Path(re.search(r"explanation: (.+)", stdout).group(1))
    return tmp_path / edited, tmp_path / figure, stdout


def test_the_readme_command_runs_with_a_standin(standin_dir, tmp_path, monkeypatch, capsys):
    edited, figure, _stdout = _run(
        [*readme_edit_command(), "--model", str(standin_dir)], tmp_path, monkeypatch, capsys
    )
    assert Image.open(edited).size == (32, 32) and Image.open(figure).width > 500
    assert (tmp_path / "out" / "index.html").is_file()


@pytest.mark.skipif(
    not BUNDLED,
    reason=f"the bundled model {DEFAULT_MODEL} is not in this checkout yet "
    f"(it is added with scripts/bundle_model.py RUN_DIR once trained)",
)
def test_the_readme_command_with_the_bundled_model(tmp_path, monkeypatch, capsys):
    argv = readme_edit_command()
    edited, figure, _ = _run(argv, tmp_path, monkeypatch, capsys)
    size = textedit.load().image_size
    assert Image.open(edited).size == (size, size)
    assert Image.open(figure).width > 500
    image = argv[argv.index("--image") + 1]
    from textedit.data.images import fit_square, load_image

    before = np.asarray(fit_square(load_image(ROOT / image), size), dtype=float)
    after = np.asarray(Image.open(edited), dtype=float)
    change = np.abs(after - before).mean()
    assert 0.5 < change < 60, (
        f"the trained model should edit, not copy or repaint (mean change {change:.1f}/255)"
    )


@pytest.mark.skipif(
    not BUNDLED, reason=f"the bundled model {DEFAULT_MODEL} is not in this checkout yet"
)
def test_docs_figures_were_made_with_the_bundled_model():
    note = (ROOT / "docs" / "assets" / "editing" / "SOURCE.txt").read_text(encoding="utf-8")
    assert f"model: {DEFAULT_MODEL}" in note, (
        "the figures of the README and docs/guides/editing.md were made by a stand-in; "
        "regenerate them with: python scripts/make_docs_figures.py"
    )


def test_the_docs_figure_shows_the_readme_command():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "figures", ROOT / "scripts" / "make_docs_figures.py"
    )
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    argv = readme_edit_command()
    assert argv[argv.index("--image") + 1] == f"examples/images/{figures.README_IMAGE}"
    assert argv[argv.index("--text") + 1] == figures.README_TEXT


def readme_edit_commands() -> list[list[str]]:
    """Every `textedit edit` command of the README, in order, as argv."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [readme_edit_command()]
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)[1:]:
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("textedit edit "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_the_readme_edit_commands_run_one_after_another(standin_dir, tmp_path, monkeypatch, capsys):
    # they used to collide: the second wrote into out/ where the first had written index.html
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    commands = readme_edit_commands()
    assert len(commands) >= 3
    for argv in commands:
        assert main([*argv, "--model", str(standin_dir), "--no-progress"]) == 0, argv
    out = tmp_path / commands[0][commands[0].index("--out") + 1]
    shared = [a for a in commands if a[a.index("--out") + 1] == commands[0][commands[0].index("--out") + 1]]
    assert (out / "index.html").read_text(encoding="utf-8").count("<table>") == len(shared)
    # the same command again: its edit exists, so it is refused with what to do, and
    # nothing changes
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    capsys.readouterr()
    assert main([*commands[0], "--model", str(standin_dir)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert main([*commands[0], "--model", str(standin_dir), "--overwrite", "--no-progress"]) == 0
    assert (out / "index.html").read_text(encoding="utf-8").count("<table>") == len(shared)
