"""Sobel boundary maps, the built-in edge CNN and the timm backbone option."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from textedit.components.structure_extractor.edge_cnn import EdgeCNNStructureExtractor
from textedit.components.structure_extractor.timm_edge import TimmEdgeStructureExtractor
from textedit.errors import CheckpointError, ConfigError, MissingDependencyError, TextEditError
from textedit.layers.sobel import SobelEdges


def test_sobel_is_normalised_and_finds_a_vertical_edge():
    image = -torch.ones(2, 3, 8, 8)
    image[0, :, :, 4:] = 1.0  # left black, right white
    edges = SobelEdges()(image)
    assert edges.shape == (2, 1, 8, 8)
    assert edges[0].max() == 1.0 and edges.min() >= 0
    assert edges[0, 0, :, 3:5].min() == 1.0 and edges[0, 0, :, :2].max() == 0
    assert edges[1].abs().max() == 0  # a flat image has no boundary


def test_edge_cnn_shapes_and_config_checks():
    extractor = EdgeCNNStructureExtractor(dict(channels=12, reduction=8))
    out = extractor(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert out.features.shape == (2, 12, 4, 4)
    assert out.boundary.shape == (2, 1, 32, 32)
    with pytest.raises(ConfigError, match="power of two"):
        EdgeCNNStructureExtractor(dict(reduction=6))


# timm (seconds to import) is imported by the tests that use it, not at collection
requires_timm = pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")


@pytest.fixture()
def timm():
    return pytest.importorskip("timm")


@requires_timm
def test_timm_edge_uses_the_level_of_the_requested_stride():
    extractor = TimmEdgeStructureExtractor(dict(model_name="resnet10t", reduction=8, channels=6))
    out = extractor(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert out.features.shape == (1, 6, 8, 8)
    with pytest.raises(TextEditError, match="strides"):
        TimmEdgeStructureExtractor(dict(model_name="resnet10t", reduction=3))


def test_timm_edge_loads_pretrained_weights_from_a_local_file(timm, tmp_path):
    reference = timm.create_model("resnet10t", pretrained=False)
    path = tmp_path / "resnet10t.pth"
    torch.save(reference.state_dict(), path)
    extractor = TimmEdgeStructureExtractor(
        dict(model_name="resnet10t", reduction=4, checkpoint_path=str(path))
    )
    torch.testing.assert_close(extractor.backbone.conv1[0].weight, reference.conv1[0].weight)


def test_timm_edge_saved_with_pretrained_weights_loads_without_the_file(timm, tmp_path):
    from textedit.serialization import load_component

    path = tmp_path / "resnet10t.pth"
    torch.save(timm.create_model("resnet10t", pretrained=False).state_dict(), path)
    extractor = TimmEdgeStructureExtractor(
        dict(model_name="resnet10t", reduction=4, checkpoint_path=str(path))
    )
    extractor.save_pretrained(tmp_path / "saved")
    path.unlink()  # another machine: the weights file is gone, the saved weights suffice
    loaded = load_component(tmp_path / "saved")
    torch.testing.assert_close(loaded.backbone.conv1[0].weight, extractor.backbone.conv1[0].weight)


def test_timm_edge_explains_missing_weights(timm, tmp_path, monkeypatch):
    with pytest.raises(CheckpointError, match="does not exist"):
        TimmEdgeStructureExtractor(dict(checkpoint_path=str(tmp_path / "nope.pth")))
    with pytest.raises(TextEditError, match="allow_download"):
        TimmEdgeStructureExtractor(dict(pretrained=True))

    real = timm.create_model

    def offline(name, pretrained=False, **kwargs):
        if pretrained:
            raise OSError("could not reach the hub")
        return real(name, pretrained=pretrained, **kwargs)

    monkeypatch.setattr(timm, "create_model", offline)
    with pytest.raises(CheckpointError, match="checkpoint_path"):
        TimmEdgeStructureExtractor(dict(pretrained=True, allow_download=True))


def test_timm_edge_without_timm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'textedit-mimnet\[mimnet\]'"):
        TimmEdgeStructureExtractor()


@requires_timm
def test_frozen_backbone_is_saved_but_not_trained(tmp_path):
    extractor = TimmEdgeStructureExtractor(dict(reduction=4, channels=4, freeze_backbone=True))
    assert not any(p.requires_grad for p in extractor.backbone.parameters())
    assert any(k.startswith("backbone.") for k in extractor.state_dict())
    # in train mode its batch norms neither normalise by the batch nor update their statistics
    before = {k: v.clone() for k, v in extractor.backbone.state_dict().items() if "running" in k}
    extractor.train()
    assert not extractor.backbone.training and extractor.projection.training
    extractor(torch.rand(4, 3, 32, 32) * 2 - 1)
    assert all(torch.equal(v, extractor.backbone.state_dict()[k]) for k, v in before.items()) and before
