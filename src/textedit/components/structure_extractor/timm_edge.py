"""Boundary map (Sobel) of the input through any timm backbone (the paper's pretrained CNN)."""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import CheckpointError, MissingDependencyError, TextEditError
from textedit.interfaces.structure_extractor import Structure, StructureExtractor
from textedit.layers.sobel import SobelEdges
from textedit.registry.api import register_structure_extractor
from textedit.serialization import is_restoring

__all__ = ["TimmEdgeStructureExtractor", "TimmEdgeStructureExtractorConfig"]


class TimmEdgeStructureExtractorConfig(ComponentConfig):
    model_name: str = Field(
        "resnet10t", description="any timm model that supports features_only=True"
    )
    reduction: int = Field(
        8,
        ge=1,
        description="use the backbone level with this stride (image size over feature size)",
    )
    channels: int = Field(
        32, gt=0, description="channels c of the structure features (a 1×1 projection of the level)"
    )
    pretrained: bool = Field(
        False,
        description="start from pretrained weights: from checkpoint_path, or from the "
        "model hub when allow_download is set",
    )
    checkpoint_path: str | None = Field(
        None,
        description="local file (.safetensors/.pth) with the backbone's pretrained weights",
    )
    allow_download: bool = Field(
        False,
        description="let timm download pretrained weights from the model hub (opt-in)",
    )
    freeze_backbone: bool = Field(
        False, description="keep the backbone's weights fixed (they are still saved)"
    )


def _import_timm():
    try:
        import timm
    except ImportError as exc:
        raise MissingDependencyError(
            "the structure extractor 'timm_edge' needs timm, which is not installed: "
            "pip install 'textedit-mimnet[mimnet]'  (or: pip install timm)"
        ) from exc
    return timm


@register_structure_extractor("timm_edge")
class TimmEdgeStructureExtractor(StructureExtractor):
    """Sobel edges, replicated to three channels and normalised as the backbone expects,
    through a timm ``features_only`` backbone cut after the level of stride ``reduction``,
    then a 1×1 projection to ``channels``.

    All weights, the backbone's included, are saved with the model; ``pretrained`` only
    decides how a *new* instance starts.
    """

    config_class = TimmEdgeStructureExtractorConfig

    def __init__(self, config: TimmEdgeStructureExtractorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        timm = _import_timm()
        level, channels = self._find_level(timm)
        kwargs = dict(features_only=True, out_indices=(level,))
        self.backbone = self._create_backbone(timm, kwargs)
        mean = self.backbone.pretrained_cfg.get("mean", (0.5, 0.5, 0.5))
        std = self.backbone.pretrained_cfg.get("std", (0.5, 0.5, 0.5))
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.edges = SobelEdges()
        self.projection = nn.Conv2d(channels, c.channels, 1)
        if c.freeze_backbone:
            self.backbone.requires_grad_(False)

    def train(self, mode: bool = True) -> "TimmEdgeStructureExtractor":
        """Sets the mode of this module; a frozen backbone stays in eval mode, so that its
        batch norms keep normalising with (and do not update) their running statistics."""
        super().train(mode)
        if self.config.freeze_backbone:
            self.backbone.eval()
        return self

    def _find_level(self, timm) -> tuple[int, int]:
        c = self.config
        try:
            with torch.device("meta"):
                probe = timm.create_model(c.model_name, pretrained=False, features_only=True)
        except RuntimeError as exc:
            if "Unknown model" in str(exc) or "Invalid model" in str(exc):
                raise TextEditError(
                    f"timm has no model {c.model_name!r}; pick one of timm.list_models() that "
                    f"supports features_only=True, e.g. 'resnet10t' or 'convnext_atto'"
                ) from exc
            raise
        reductions = probe.feature_info.reduction()
        if c.reduction not in reductions:
            raise TextEditError(
                f"timm model {c.model_name!r} has feature levels with strides {reductions}, none "
                f"with reduction={c.reduction}; set structure_extractor.reduction to one of them"
            )
        level = reductions.index(c.reduction)
        return level, probe.feature_info.channels()[level]

    def _create_backbone(self, timm, kwargs: dict) -> nn.Module:
        c = self.config
        if is_restoring():  # the saved weights replace any pretrained ones
            return timm.create_model(c.model_name, pretrained=False, **kwargs)
        if c.checkpoint_path is not None:
            path = Path(c.checkpoint_path).expanduser()
            if not path.is_file():
                raise CheckpointError(
                    f"structure_extractor.checkpoint_path {str(path)!r} does not exist; point it "
                    f"at a local weights file for {c.model_name!r} (e.g. saved with "
                    f"torch.save(timm.create_model({c.model_name!r}, pretrained=True).state_dict(), path) "
                    f"on a machine with network access), or set it to null"
                )
            overlay = dict(file=str(path))
            return timm.create_model(
                c.model_name, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs
            )
        if not c.pretrained:
            return timm.create_model(c.model_name, pretrained=False, **kwargs)
        if not c.allow_download:
            raise TextEditError(
                f"structure_extractor.pretrained=True for {c.model_name!r} needs weights: set "
                f"checkpoint_path to a local weights file, or set allow_download=True to fetch "
                f"them from the model hub"
            )
        try:
            return timm.create_model(c.model_name, pretrained=True, **kwargs)
        except Exception as exc:  # network, hub and cache errors come in many types
            raise CheckpointError(
                f"could not download pretrained weights for {c.model_name!r} from the model hub "
                f"({type(exc).__name__}: {exc}). On a machine with network access save them with "
                f"torch.save(timm.create_model({c.model_name!r}, pretrained=True).state_dict(), "
                f"'weights.pth') and set structure_extractor.checkpoint_path to that file, or set "
                f"pretrained=False"
            ) from exc

    @classmethod
    def example_config(cls) -> TimmEdgeStructureExtractorConfig:
        return cls.config_class(model_name="resnet10t", reduction=4, channels=8)

    @property
    def out_channels(self) -> int:
        return self.config.channels

    @property
    def reduction(self) -> int:
        return self.config.reduction

    def forward(self, image: Tensor) -> Structure:
        """``(b, 3, H, W)`` in ``[-1, 1]`` -> boundary ``(b, 1, H, W)``, features ``(b, c, H/r, W/r)``."""
        boundary = self.edges(image)
        normalised = (boundary.expand(-1, 3, -1, -1) - self.mean) / self.std
        return Structure(boundary, self.projection(self.backbone(normalised)[-1]))
