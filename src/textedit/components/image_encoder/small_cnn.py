"""A small CNN image encoder: DAMSM's image side for generated data on a CPU (our deviation
from AttnGAN's Inception-v3).

Shape legend: ``b`` batch, ``S`` the input side (``image_size``), ``d`` ``feature_dim``.
"""

from __future__ import annotations

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.image_encoder import ImageEncoder, ImageEncoding
from textedit.registry.api import register_image_encoder

__all__ = ["SmallCNNImageEncoder", "SmallCNNImageEncoderConfig"]


class SmallCNNImageEncoderConfig(ComponentConfig):
    image_size: int = Field(
        64,
        ge=16,
        description="input side S; images of another size are resized to it (bilinear, "
        "antialiased). Regions are the S/8 × S/8 grid",
    )
    width: int = Field(
        32,
        gt=0,
        description="channels of the first layer (doubled at each downsampling, up to 8×)",
    )
    feature_dim: int = Field(
        256, gt=0, description="width d of the region and global features (AttnGAN: 256)"
    )


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    # batch norm as in Inception: without it the pooled codes of different images start
    # nearly parallel, every cosine is ~1 and the DAMSM losses sit at chance
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.2, inplace=True),
    )


@register_image_encoder("small_cnn")
class SmallCNNImageEncoder(ImageEncoder):
    """Six 3 × 3 convolutions with batch norm. Regions are the fourth layer's ``S/8 × S/8``
    grid (8 × 8 at 64 px, about one region per bird part, and DAMSM's words loss — pairs ×
    regions × words × d — stays affordable on a CPU) through a 1 × 1 convolution to ``d``;
    the global feature is the last layer (one more downsampling) averaged and projected to
    ``d`` by a linear layer.
    """

    config_class = SmallCNNImageEncoderConfig

    def __init__(self, config: SmallCNNImageEncoderConfig | dict | None = None):
        super().__init__(config)
        w, d = self.config.width, self.config.feature_dim
        self.local = nn.Sequential(
            _block(3, w, 1), _block(w, 2 * w, 2), _block(2 * w, 4 * w, 2), _block(4 * w, 4 * w, 2)
        )
        self.deep = nn.Sequential(_block(4 * w, 8 * w, 1), _block(8 * w, 8 * w, 2))
        self.emb_features = nn.Conv2d(4 * w, d, 1, bias=False)
        self.emb_cnn_code = nn.Linear(8 * w, d)

    @classmethod
    def example_config(cls) -> SmallCNNImageEncoderConfig:
        return cls.config_class(image_size=16, width=4, feature_dim=8)

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def feature_dim(self) -> int:
        return self.config.feature_dim

    @property
    def region_size(self) -> int:
        size = self.config.image_size
        for _ in range(3):  # three stride-2 convolutions with padding 1
            size = (size - 1) // 2 + 1
        return size

    def forward(self, image: Tensor) -> ImageEncoding:
        """``(b, 3, H, W)`` in ``[-1, 1]`` -> regions ``(b, d, S/8, S/8)``, global ``(b, d)``."""
        size = self.config.image_size
        if image.shape[-1] != size or image.shape[-2] != size:
            image = F.interpolate(
                image, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        local = self.local(image)
        code = self.deep(local).mean((2, 3))
        return ImageEncoding(self.emb_features(local), self.emb_cnn_code(code))
