"""benchmarks/handwritten.py: the hand-written descriptions' folder scores by meant attributes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def handwritten():
    spec = importlib.util.spec_from_file_location("handwritten", ROOT / "benchmarks" / "handwritten.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fifty_descriptions_outside_the_templates(handwritten):
    rows = handwritten.read_descriptions(handwritten.DESCRIPTIONS)
    assert len(rows) == 50 and len({text for text, _ in rows}) == 50
    kinds = [key[1] for _, requested in rows for key in requested]
    assert kinds.count("colour") > kinds.count("size") > 0


def test_the_folder_keeps_the_meant_attributes_and_the_evaluator_reads_them(handwritten, tmp_path):
    from textedit.evaluation.sources import open_eval_data

    handwritten.build(tmp_path / "hw", images=1, descriptions=handwritten.DESCRIPTIONS)
    lines = [json.loads(x) for x in (tmp_path / "hw" / "edits.jsonl").read_text().splitlines()]
    rows = handwritten.read_descriptions(handwritten.DESCRIPTIONS)
    assert len(lines) == 50
    data = open_eval_data(str(tmp_path / "hw"))
    for k, (text, requested) in enumerate(rows):
        assert lines[k]["description"] == text
        item = data.item(k, 64)
        assert item["description"] == text
        # the truth is what the description means, even where the grammar misreads it
        assert _requested(item["requested"]) == dict(requested)


def _requested(text: str) -> dict[tuple[str, str], str]:
    from textedit.evaluation.attributes import parse_requested

    return parse_requested(text)
