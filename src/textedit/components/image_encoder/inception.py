"""AttnGAN's ``CNN_ENCODER``: Inception-v3's trunk with two projections (DAMSM's image side).

Shape legend: ``b`` batch, ``S`` the input side (``image_size``, 299 as in AttnGAN), ``d``
``feature_dim``, ``r`` the side of the ``Mixed_6e`` grid (17 at 299 px).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import CheckpointError, MissingDependencyError
from textedit.interfaces.image_encoder import ImageEncoder, ImageEncoding
from textedit.registry.api import register_image_encoder
from textedit.serialization import is_restoring

__all__ = ["InceptionImageEncoder", "InceptionImageEncoderConfig"]

#: Inception-v3's blocks up to ``Mixed_6e`` (the region features), by torchvision's names
TRUNK_BLOCKS = (
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "maxpool1",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "maxpool2",
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
)
#: the blocks after it, whose averaged output (2048) is the global feature
DEEP_BLOCKS = ("Mixed_7a", "Mixed_7b", "Mixed_7c")


class InceptionImageEncoderConfig(ComponentConfig):
    feature_dim: int = Field(
        256, gt=0, description="width d of the region and global features (AttnGAN: 256)"
    )
    image_size: int = Field(
        299,
        ge=75,
        description="input side S: images are resized to it (bilinear); AttnGAN: 299, where "
        "the regions are Mixed_6e's 17 × 17 grid",
    )
    freeze_backbone: bool = Field(
        False,
        description="train only the two projections, not the Inception trunk (AttnGAN, with "
        "ImageNet weights); the trunk's weights are still saved",
    )
    backbone_weights: str | None = Field(
        None,
        description="local file with torchvision's ImageNet Inception-v3 weights "
        "(inception_v3_google-*.pth) that a new encoder's trunk starts from; null: random. "
        "Not read when a saved encoder is loaded (its own weights replace them)",
    )


def _inception_v3() -> nn.Module:
    try:
        from torchvision.models import inception_v3
    except ImportError as exc:
        raise MissingDependencyError(
            "the image encoder 'inception' needs torchvision, which is not installed: "
            "pip install torchvision"
        ) from exc
    return inception_v3(weights=None, aux_logits=False, init_weights=True)


def _side(size: int, kernel: int, stride: int = 1) -> int:
    return (size - kernel) // stride + 1


@register_image_encoder("inception")
class InceptionImageEncoder(ImageEncoder):
    """torchvision's ``inception_v3(weights=None, aux_logits=False, init_weights=True)``, as
    AttnGAN builds it (optionally started from ImageNet weights and frozen). Regions are
    ``Mixed_6e`` (768 channels) through a 1 × 1 convolution to ``d``; the global feature is
    the last average pool (2048) through a linear layer to ``d``; both projections start
    uniform in ``[-0.1, 0.1]`` (AttnGAN's ``init_trainable_weights``). Images are resized to
    ``S`` bilinearly and read as they are in ``[-1, 1]`` (AttnGAN's normalisation).
    """

    config_class = InceptionImageEncoderConfig

    def __init__(self, config: InceptionImageEncoderConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        net = _inception_v3()
        self.trunk = nn.Sequential(*(getattr(net, n) for n in TRUNK_BLOCKS))
        self.deep = nn.Sequential(*(getattr(net, n) for n in DEEP_BLOCKS))
        self.emb_features = nn.Conv2d(768, c.feature_dim, 1, bias=False)
        self.emb_cnn_code = nn.Linear(2048, c.feature_dim)
        for p in (self.emb_features.weight, self.emb_cnn_code.weight):
            nn.init.uniform_(p, -0.1, 0.1)
        if c.freeze_backbone:
            for p in [*self.trunk.parameters(), *self.deep.parameters()]:
                p.requires_grad_(False)
        if c.backbone_weights is not None and not is_restoring():
            self.load_backbone(c.backbone_weights)

    @classmethod
    def example_config(cls) -> InceptionImageEncoderConfig:
        """The smallest input Inception-v3 reads (75 px: a 3 × 3 region grid), 8-d features."""
        return cls.config_class(feature_dim=8, image_size=75)

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def feature_dim(self) -> int:
        return self.config.feature_dim

    @property
    def region_size(self) -> int:
        s = _side(self.config.image_size, 3, 2)  # Conv2d_1a_3x3
        s = _side(s, 3)  # Conv2d_2a_3x3 (2b keeps the size)
        s = _side(s, 3, 2)  # maxpool1
        s = _side(s, 3)  # Conv2d_4a_3x3
        s = _side(s, 3, 2)  # maxpool2
        return _side(s, 3, 2)  # Mixed_6a

    def load_backbone(self, path: str | Path) -> None:
        """Start the trunk from torchvision's ImageNet file (``inception_v3_google-*.pth``).

        Raises:
            CheckpointError: the file does not exist or is not that file.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise CheckpointError(
                f"image_encoder.backbone_weights {str(path)!r} does not exist; point it at "
                f"torchvision's ImageNet Inception-v3 file (inception_v3_google-*.pth), or set "
                f"it to null"
            )
        state = torch.load(path, map_location="cpu", weights_only=True)
        trunk = {n: i for i, n in enumerate(TRUNK_BLOCKS)}
        mine: dict[str, Tensor] = {}
        for key, value in state.items():
            top, _, rest = key.partition(".")
            if top in trunk:
                mine[f"trunk.{trunk[top]}.{rest}"] = value
            elif top in DEEP_BLOCKS:
                mine[f"deep.{DEEP_BLOCKS.index(top)}.{rest}"] = value
        own = {k for k in self.state_dict() if k.startswith(("trunk.", "deep."))}
        missing = sorted(own - set(mine))
        if missing:
            raise CheckpointError(
                f"{path} is not torchvision's Inception-v3 ImageNet file: {len(missing)} trunk "
                f"tensors missing (e.g. {missing[0]})"
            )
        self.load_state_dict(mine, strict=False)

    def forward(self, image: Tensor) -> ImageEncoding:
        """``(b, 3, H, W)`` in ``[-1, 1]`` -> regions ``(b, d, r, r)``, global ``(b, d)``."""
        size = self.config.image_size
        x = F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False)
        features = self.trunk(x)
        code = self.deep(features).mean((2, 3))
        return ImageEncoding(self.emb_features(features), self.emb_cnn_code(code))
