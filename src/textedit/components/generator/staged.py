"""What AttnGAN's family of multi-stage generators shares (AttnGAN, StackGAN++, ManiGAN):
the stage sizes, and the initial stage that grows a ``4 × 4`` map from the
conditioning-augmented sentence and noise.

Shape legend: ``b`` batch, ``H`` the last stage's size, ``K`` stages, ``s_k = H / 2^(K-1-k)``
the size of stage ``k``, ``d_w`` / ``d_s`` word / sentence feature widths, ``k`` condition
width, ``z`` noise width, ``c`` the stages' channels (``ngf``), ``e`` an extra code's width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.generator import Generator
from textedit.layers.conditioning_augmentation import ConditioningAugmentation
from textedit.layers.conv_block import Norm, make_norm
from textedit.layers.glu_block import GLUBlock
from textedit.layers.memory_format import weights_format

__all__ = ["StagedGenerator", "StagedGeneratorConfig", "INIT_SIZE"]

#: side of the map the initial stage starts from
INIT_SIZE = 4


class StagedGeneratorConfig(ComponentConfig):
    image_size: int = Field(256, gt=0, description="the last stage's size H")
    num_stages: int = Field(3, ge=1, description="stages K; stage k draws s_k = H / 2^(K-1-k) (64, 128, 256 in the references)")
    word_dim: int = Field(256, gt=0, description="width d_w of the text encoder's word features")
    sentence_dim: int | None = Field(None, gt=0, description="width d_s of the sentence feature; None: word_dim")
    condition_dim: int = Field(100, gt=0, description="width k of the conditioning augmentation (ncf)")
    noise_dim: int = Field(100, gt=0, description="width z of the noise the initial stage draws from")
    base_channels: int = Field(32, gt=0, description="ngf: feature channels c of every stage")
    num_residual_blocks: int = Field(2, ge=0, description="residual blocks of each later stage (R_NUM)")
    norm: Norm = Field(
        "group",
        description="normalisation of every block: 'group' (per image, the library's default) or "
        "'batch' (the references'; running statistics when not training)",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> StagedGeneratorConfig:
        first = self.image_size >> (self.num_stages - 1)
        if first < INIT_SIZE or first & (first - 1) or first << (self.num_stages - 1) != self.image_size:
            raise ValueError(
                f"image_size ({self.image_size}) / 2^(num_stages - 1) must be a power of two >= "
                f"{INIT_SIZE} (the first stage grows from a {INIT_SIZE}×{INIT_SIZE} map); got "
                f"{self.image_size} with {self.num_stages} stages"
            )
        return self


class StagedGenerator(Generator):
    """Base of AttnGAN's family: the stage sizes, the widths it reads, and the initial stage
    (``INIT_STAGE_G``): ``c_s`` = conditioning augmentation of the sentence ``(b, k)``;
    ``h_0 = up(GLU(norm(W [c_s; z; g])))`` from ``4 × 4`` to ``s_0`` with widths halving to
    ``c`` (``g`` an optional extra code, ManiGAN's image code).

    A subclass calls :meth:`build_initial_stage` in ``__init__`` and :meth:`initial_stage`
    in ``forward``.
    """

    config: StagedGeneratorConfig

    def build_initial_stage(self, extra_dim: int = 0) -> None:
        """Create ``augmentation``, ``initial``, ``initial_norm`` and ``initial_up``."""
        cfg = self.config
        self.augmentation = ConditioningAugmentation(self.sentence_dim, cfg.condition_dim)
        ups = (self.stage_sizes[0] // INIT_SIZE).bit_length() - 1
        width = cfg.base_channels << ups  # ngf·16 at a 64-px first stage
        self.initial = nn.Linear(cfg.condition_dim + cfg.noise_dim + extra_dim, 2 * width * INIT_SIZE**2, bias=False)
        self.initial_norm = make_norm(2 * width, cfg.norm)
        self.initial_up = nn.Sequential(
            *(GLUBlock(width >> j, width >> (j + 1), upsample=True, norm=cfg.norm) for j in range(ups))
        )

    def initial_stage(self, condition: Tensor, noise: Tensor, extra: Tensor | None = None) -> Tensor:
        """``(b, k)`` condition, ``(b, z)`` noise and an optional ``(b, e)`` code ->
        ``h_0`` ``(b, c, s_0, s_0)``."""
        parts = [condition, noise] if extra is None else [condition, noise, extra]
        h = self.initial(torch.cat(parts, dim=1)).view(condition.shape[0], -1, INIT_SIZE, INIT_SIZE)
        h = h.contiguous(memory_format=weights_format(self.initial_up))
        return self.initial_up(F.glu(self.initial_norm(h), dim=1))

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        c = self.config
        return tuple(c.image_size >> (c.num_stages - 1 - k) for k in range(c.num_stages))

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim
