"""The shared base of the single-stage, sentence-conditioned generators (SISGAN, TAGAN).

Shape legend: ``b`` batch, ``H`` input size, ``h = H / 2^n`` the feature size after the
encoder's ``n`` stride-2 blocks, ``d_s`` sentence feature width, ``k`` condition width,
``c`` feature channels (``c = min(max_channels, base_channels·2^n)`` at ``h``).

Both generators encode the image, tile a conditioning augmentation of the sentence feature
over the encoded features, fuse the two, and decode to RGB. This module holds what they share:
the config fields, the encoder, the conditioning augmentation, the decoder, the input checks
and the forward pass. Each subclass adds only its fusion (:meth:`_build_fusion` builds its
layers, :meth:`_fuse` runs them) and its config's defaults; see
:mod:`textedit.components.generator.tagan` and :mod:`textedit.components.generator.sisgan`.
The base is abstract and not registered.

Shared conventions, where the references differ and it is not about the method:

* normalisation is :func:`~textedit.layers.conv_block.make_norm` (per-sample GroupNorm)
  instead of BatchNorm, so an edit never depends on the rest of its batch;
* the text is the text encoder's sentence feature;
* conditioning augmentation samples only in training mode and uses its mean in eval mode,
  so an edit is deterministic.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.generator import Generator, GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conditioning_augmentation import ConditioningAugmentation
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.init import dcgan_init
from textedit.layers.memory_format import tile_like
from textedit.layers.upsample_block import UpsampleBlock

__all__ = [
    "BaseChannels",
    "ImageSize",
    "NumDownsamples",
    "SentenceConditionedGenerator",
    "SentenceConditionedGeneratorConfig",
]

#: Types of the fields whose defaults differ per paper. A subclass config redeclares such a
#: field with its own default (``image_size: ImageSize = 128``), or with a ``Field`` that adds
#: its own description; the constraint and the base description come with the type.
ImageSize = Annotated[
    int, Field(gt=0, description="input and output size H (divisible by 2^num_downsamples)")
]
BaseChannels = Annotated[
    int,
    Field(gt=0, description="channels of the full-resolution stem; doubled per stride-2 block"),
]
NumDownsamples = Annotated[
    int,
    Field(ge=1, description="stride-2 blocks of the encoder and ×2 upsamplings of the decoder"),
]


class SentenceConditionedGeneratorConfig(ComponentConfig):
    """Fields of a sentence-conditioned generator; subclasses give the per-paper defaults."""

    image_size: ImageSize
    word_dim: int = Field(
        256,
        gt=0,
        description="width of the text encoder's word features (not read: the generator "
        "reads the sentence feature only)",
    )
    sentence_dim: int | None = Field(
        None, gt=0, description="width d_s of the sentence feature it reads; None: word_dim"
    )
    condition_dim: int = Field(
        128,
        gt=0,
        description="width k of the conditioning augmentation's sample (128 in TAGAN and SISGAN)",
    )
    base_channels: BaseChannels
    max_channels: int = Field(512, gt=0, description="cap on the channels of any block")
    num_downsamples: NumDownsamples
    num_residual_blocks: int = Field(
        4,
        ge=0,
        description="residual blocks after the image-text fusion (4 in TAGAN and SISGAN)",
    )

    @model_validator(mode="after")
    def _check_size(self) -> SentenceConditionedGeneratorConfig:
        factor = 1 << self.num_downsamples
        if self.image_size % factor:
            raise ValueError(
                f"image_size ({self.image_size}) must be divisible by 2^num_downsamples = {factor}"
            )
        return self


class SentenceConditionedGenerator(Generator):
    """Encodes the image, fuses it with the sentence's conditioning augmentation, decodes.

    ``e = encoder(x)``: a 3×3 stem then ``n`` stride-2 4×4 blocks, ``(b, c, h, h)``;
    ``c_s`` = conditioning augmentation of the sentence feature, ``(b, k)``;
    ``x̂ = tanh(decoder(fuse(e, [e; tile(c_s)])))`` with ``n`` nearest ×2 upsampling blocks
    and a 3×3 convolution to RGB. ``aux["ca_mean"]`` and ``aux["ca_logvar"]`` (each
    ``(b, k)``) feed the recipe's KL term.

    Widths at level ``j`` (size ``H / 2^j``) are ``min(max_channels, base_channels·2^j)``
    (:attr:`widths`).

    Abstract: a subclass sets :attr:`config_class` (a
    :class:`SentenceConditionedGeneratorConfig`) and :attr:`augmentation_bias`, and
    implements :meth:`_build_fusion` and :meth:`_fuse`. The submodules are ``stem``,
    ``encoder``, ``augmentation``, the subclass's fusion layers, then ``decoder``, built
    (and so drawing their initial weights) in that order.
    """

    config_class: ClassVar[type[SentenceConditionedGeneratorConfig]]
    config: SentenceConditionedGeneratorConfig
    uses = frozenset()

    #: whether the conditioning augmentation's projections have biases
    augmentation_bias: ClassVar[bool] = True

    def __init__(
        self, config: SentenceConditionedGeneratorConfig | Mapping[str, Any] | None = None
    ):
        super().__init__(config)
        c = self.config
        widths = self.widths
        self.stem = ConvNormAct(3, widths[0], norm=False)
        self.encoder = DownsamplingEncoder(widths[0], widths[1:], kernel_size=4)
        self.augmentation = ConditioningAugmentation(
            self.sentence_dim, c.condition_dim, bias=self.augmentation_bias
        )
        self._build_fusion(widths[-1], c.condition_dim)
        self.decoder = nn.Sequential(
            *(UpsampleBlock(widths[j + 1], widths[j]) for j in reversed(range(c.num_downsamples))),
            nn.Conv2d(widths[0], 3, 3, padding=1),
            nn.Tanh(),
        )
        self.apply(dcgan_init)

    @abstractmethod
    def _build_fusion(self, channels: int, condition_dim: int) -> None:
        """Build (assign as attributes) the layers that fuse the features and the condition.

        Args:
            channels: ``c``, the channels of the encoded features and of the decoder's input.
            condition_dim: ``k``, the channels the tiled condition adds.
        """
        raise NotImplementedError

    @abstractmethod
    def _fuse(self, features: Tensor, joint: Tensor) -> Tensor:
        """The decoder's input ``(b, c, h, h)``.

        Args:
            features: the encoded image ``e``, ``(b, c, h, h)``.
            joint: ``[e; tile(c_s)]``, ``(b, c + k, h, h)``.
        """
        raise NotImplementedError

    @classmethod
    def example_config(cls) -> SentenceConditionedGeneratorConfig:
        """A 16-px config with tiny widths and the subclass's ``num_downsamples`` (at most 4)."""
        return cls.config_class(
            image_size=16,
            word_dim=6,
            sentence_dim=5,
            condition_dim=4,
            base_channels=4,
            max_channels=16,
            num_residual_blocks=2,
        )

    @property
    def widths(self) -> list[int]:
        """Channels at each level ``j = 0..n``: ``min(max_channels, base_channels·2^j)``."""
        c = self.config
        return [min(c.max_channels, c.base_channels << j) for j in range(c.num_downsamples + 1)]

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size,)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim

    def forward(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` as the sentence feature of ``text`` describes.

        Args:
            image: ``(b, 3, H, H)`` in ``[-1, 1]``.
            text: the description's encoding; only ``text.sentence`` ``(b, d_s)`` is read.
            memory: ignored (no memory bank).
            structure: ignored.
            localizer: ignored (the generator edits everywhere).

        Returns:
            :class:`GeneratorOutput` with one ``(b, 3, H, H)`` image and ``aux`` holding
            ``ca_mean`` and ``ca_logvar``, each ``(b, k)``.
        """
        self.check_image_and_text(image, text, words=False)
        features = self.encoder(self.stem(image))[-1]  # e, (b, c, h, h)
        condition, mean, logvar = self.augmentation(text.sentence.to(features.dtype))
        tiled = tile_like(condition, features)
        output = self.decoder(self._fuse(features, torch.cat([features, tiled], dim=1)))
        return GeneratorOutput(images=(output,), aux={"ca_mean": mean, "ca_logvar": logvar})
