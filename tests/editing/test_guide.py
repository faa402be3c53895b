"""The Python of docs/guides/editing.md runs (with the bundled model, else a stand-in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from editing_fixtures import make_standin

import textedit
from textedit.pretrained import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "guides" / "editing.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_guide_python_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    if DEFAULT_MODEL not in textedit.list_pretrained():
        standin = make_standin()
        monkeypatch.setattr(textedit, "load", lambda *a, **k: standin)
    exec(compile(block, "docs/guides/editing.md", "exec"), {"__name__": "__guide__"})  # noqa: S102


def test_the_guide_names_every_result_attribute():
    from textedit.editing import EditResult

    for name in (
        "image",
        "pil_images",
        "inputs",
        "boundary",
        "localization",
        "word_attention",
        "words",
        "unknown_words",
        "truncated",
        "save",
        "at_original_size",
        "explain",
    ):
        assert hasattr(EditResult, name) or name in EditResult.__dataclass_fields__, name
        assert f"`{name}" in GUIDE, name
