"""The FID Inception loader (random weights in the real files' key layout) and FID/KID."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textedit.errors import CheckpointError
from textedit.evaluation import inception as I


@pytest.fixture(scope="module")
def weight_file(tmp_path_factory):
    """A state dict with the key layout of pt_inception-2015-12-05-6726825d.pth (random values)."""
    torch.manual_seed(0)
    state = {
        k: v
        for k, v in I.FIDInceptionV3().state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    state = {
        k: torch.randn_like(v) * 0.01 if v.is_floating_point() else v for k, v in state.items()
    }
    for k in state:
        if k.endswith("running_var"):
            state[k] = torch.ones_like(state[k])
    path = tmp_path_factory.mktemp("w") / I.WEIGHT_FILES[0]
    torch.save(state, path)
    return path


def test_loads_from_a_path_and_computes_features(weight_file):
    net, path = I.load_inception(weight_file)
    assert path == weight_file
    f = net(torch.rand(2, 3, 32, 32))
    assert f.pool.shape == (2, 2048) and f.logits.shape == (2, 1008)
    assert net.num_features == 2048 and not net.training
    net.train()
    assert not net.training  # a fixed feature extractor


def test_environment_variable_and_hub_cache(weight_file, monkeypatch, tmp_path):
    monkeypatch.setenv(I.ENV_VAR, str(weight_file))
    assert I.find_inception_weights() == weight_file
    monkeypatch.delenv(I.ENV_VAR)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert I.find_inception_weights() is None
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / I.WEIGHT_FILES[1]).write_bytes(weight_file.read_bytes())
    assert I.find_inception_weights().name == I.WEIGHT_FILES[1]


def test_clear_errors_when_missing_or_wrong(weight_file, monkeypatch, tmp_path):
    monkeypatch.delenv(I.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(CheckpointError, match="--inception-weights FILE"):
        I.load_inception()
    with pytest.raises(CheckpointError, match="does not exist"):
        I.load_inception(tmp_path / "nope.pth")
    state = torch.load(weight_file, weights_only=True)
    imagenet = dict(
        state,
        **{"AuxLogits.fc.weight": torch.zeros(1000, 768), "fc.weight": torch.zeros(1000, 2048)},
    )
    torch.save(imagenet, tmp_path / "tv.pth")
    with pytest.raises(CheckpointError, match="torchvision's ImageNet"):
        I.load_inception(tmp_path / "tv.pth")
    broken = {k: v for k, v in state.items() if not k.startswith("Mixed_7c")}
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="missing"):
        I.load_inception(tmp_path / "broken.pth")
    data = (tmp_path / "broken.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"it is damaged, or not a weight file; the FID Inception weights are pt_inception") as caught:
        I.load_inception(tmp_path / "cut.pth")
    assert "weights_only" not in str(caught.value)  # torch's advice does not apply to a damaged file


def test_frechet_distance_matches_the_formula():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 6, generator=g, dtype=torch.float64)
    b = torch.randn(150, 6, generator=g, dtype=torch.float64) * 1.5 + 0.3
    mu1, mu2 = a.mean(0).numpy(), b.mean(0).numpy()
    s1, s2 = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy_linalg.sqrtm(s1 @ s2).real)
    assert I.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert abs(I.frechet_distance(a, a)) < 1e-6


def test_kernel_distance_is_near_zero_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(100, 4, generator=g), torch.randn(100, 4, generator=g)
    same, _ = I.kernel_distance(a, b, subsets=5, subset_size=50)
    far, _ = I.kernel_distance(a, b + 3.0, subsets=5, subset_size=50)
    assert abs(same) < far
