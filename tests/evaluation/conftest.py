"""Fixtures of the evaluation tests: a tiny untrained MIM-Net saved to disk."""

from __future__ import annotations

import pytest

from textedit.testing import TINY_MIMNET

#: a MIM-Net small enough to edit a few 64-px images in well under a second
TINY_MODEL = TINY_MIMNET


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    import torch

    import textedit

    torch.manual_seed(0)
    model = textedit.create_model(TINY_MODEL)
    path = tmp_path_factory.mktemp("models") / "tiny"
    model.save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: small ops on a shared CPU run several times faster than with two."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
