"""Boundary map (Sobel) of the input and a small CNN over it."""

from __future__ import annotations

from pydantic import Field, field_validator
from torch import Tensor

from textedit.config.base import ComponentConfig
from textedit.interfaces.structure_extractor import Structure, StructureExtractor
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.sobel import SobelEdges
from textedit.registry.api import register_structure_extractor

__all__ = ["EdgeCNNStructureExtractor", "EdgeCNNStructureExtractorConfig"]


class EdgeCNNStructureExtractorConfig(ComponentConfig):
    channels: int = Field(32, gt=0, description="channels c of the structure features")
    reduction: int = Field(8, ge=2, description="image size over feature size; a power of two")

    @field_validator("reduction")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"reduction must be a power of two (2, 4, 8, 16...), got {value}")
        return value


@register_structure_extractor("edge_cnn")
class EdgeCNNStructureExtractor(StructureExtractor):
    """Sobel edges of the luminance, then ``log2(reduction)`` stride-2 convolutions.

    Widths double up to ``channels`` at the last block (``channels / 2^k`` before it, at
    least 8). Trained from scratch with the rest of the model; the paper's pretrained
    boundary CNN is :class:`~textedit.components.structure_extractor.timm_edge.TimmEdgeStructureExtractor`.
    """

    config_class = EdgeCNNStructureExtractorConfig

    def __init__(self, config: EdgeCNNStructureExtractorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        levels = c.reduction.bit_length() - 1
        widths = [max(8, c.channels >> (levels - 1 - k)) for k in range(levels)]
        widths[-1] = c.channels
        self.edges = SobelEdges()
        self.encoder = DownsamplingEncoder(1, widths, activation="leaky_relu")

    @classmethod
    def example_config(cls) -> EdgeCNNStructureExtractorConfig:
        return cls.config_class(channels=8, reduction=4)

    @property
    def out_channels(self) -> int:
        return self.config.channels

    @property
    def reduction(self) -> int:
        return self.config.reduction

    def forward(self, image: Tensor) -> Structure:
        """``(b, 3, H, W)`` in ``[-1, 1]`` -> boundary ``(b, 1, H, W)``, features ``(b, c, H/r, W/r)``."""
        boundary = self.edges(image)
        return Structure(boundary, self.encoder(boundary)[-1])
