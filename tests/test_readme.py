"""The README is a test: its test command is the one CI runs, and its Python runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    bash = _blocks("bash")
    test_command = next(b.strip() for b in bash if "pytest" in b)
    steps = test_command.split(" && ")
    ci = (ROOT / ".ci" / "run").read_text()
    # CI makes its own venv; the rest of the README command must appear in it verbatim
    tail = " && ".join(s for s in steps if not s.startswith(("python3 -m venv", ". .venv")))
    assert tail in ci, f"CI must run the README's test command:\n{tail}"


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for block in _blocks("python"):
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
