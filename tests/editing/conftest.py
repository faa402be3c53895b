from __future__ import annotations

import pytest
from editing_fixtures import make_standin


@pytest.fixture(scope="session")
def standin():
    """An untrained 32-px MIM-Net (shared: tests must not change it)."""
    return make_standin()


@pytest.fixture(scope="session")
def standin_dir(tmp_path_factory, standin):
    """The stand-in saved with save_pretrained (float16, as the bundled model is)."""
    import torch

    path = tmp_path_factory.mktemp("models") / "standin"
    standin.save_pretrained(path, dtype=torch.float16)
    return path
