"""Make the plug-in importable from its source tree and registered, installed or not."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

try:
    import textedit_sentence_transformers  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def pytest_configure(config):
    from textedit.registry.kinds import get_registry

    registry = get_registry("text_encoder")
    if "sentence_transformer" not in registry:  # not installed: register in code for the tests
        from textedit_sentence_transformers import SentenceTransformerTextEncoder

        registry.add("sentence_transformer", SentenceTransformerTextEncoder)
