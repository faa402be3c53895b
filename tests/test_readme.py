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


def _docs() -> dict[str, str]:
    pages = {"README.md": README}
    pages.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md")})
    return pages


def test_every_config_the_docs_and_help_name_exists():
    # the train help and docs/evaluation.md used to name configs/mimnet64_birds.yaml
    import contextlib
    import io

    from textedit.cli import main
    from textedit.training.config import find_config

    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), contextlib.suppress(SystemExit):
        main(["train", "--help"])
    named = {("textedit train --help", c) for c in re.findall(r"--config\s+`?([\w./-]+)", help_text.getvalue())}
    for page, text in _docs().items():
        named |= {(page, c) for c in re.findall(r"--config[ =]([\w./-]+)", text)}
    sources = ROOT / "src" / "textedit"
    for path in sources.rglob("*.py"):
        named |= {(str(path.relative_to(ROOT)), c) for c in re.findall(r"configs/(\w+\.yaml)", path.read_text(encoding="utf-8"))}
    placeholders = {"my.yaml", "FILE", "CONFIG", "my_config.yaml", "config.yaml", "run.yaml"}
    missing = []
    for where, config in sorted(named):
        if config in placeholders or config.startswith(("runs/", "$")):
            continue
        try:
            find_config(config if "/" not in config else ROOT / config)
        except Exception as exc:  # noqa: BLE001
            missing.append(f"{where}: {config} ({exc})")
    assert missing == []
    assert any(w == "textedit train --help" for w, _ in named)


def test_the_docs_name_the_bundled_models_recipe():
    # docs/guides/editing.md used to name mimnet64_birds, bundled.json mimnet64_birds_paired
    import json

    info = json.loads((ROOT / "src" / "textedit" / "pretrained" / "bundled.json").read_text())
    recipe = info["mimnet64_birds"]["recipe"]
    for page in ("README.md", "docs/guides/editing.md", "docs/guides/bundled-model.md"):
        text = _docs()[page]
        assert f"--config {recipe}" in text, f"{page} does not name the recipe {recipe}"
        others = set(re.findall(r"trained by the shipped recipe\s+`textedit train --config (\w+)", text))
        assert others <= {recipe}, (page, others)


def test_install_lines_get_this_project_not_the_pypi_namesake():
    # "textedit" on PyPI is an unrelated package (TextEdit 1.4): `pip install "textedit[mimnet]"`
    # installed it, with a warning that it has no extra mimnet
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "textedit-mimnet"
    bad = re.compile(r"pip install (?:-U )?[\"']?textedit(?:\[|[\"'\s]|$)")
    # the getting-started warning about the namesake quotes the wrong line on purpose
    warning = re.compile(r'!!! warning "`pip install textedit` is another project".*?(?=\n\S|\Z)', re.S)
    offenders = [page for page, text in _docs().items() if bad.search(warning.sub("", text))]
    for path in (ROOT / "src").rglob("*.py"):
        if bad.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    for plugin in (ROOT / "plugins").glob("*/pyproject.toml"):
        deps = tomllib.loads(plugin.read_text())["project"]["dependencies"]
        if any(re.match(r"textedit\b(?!-)", d) for d in deps):
            offenders.append(str(plugin.relative_to(ROOT)))
    assert offenders == []
