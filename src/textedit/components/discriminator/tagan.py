"""TAGAN's text-adaptive discriminator, one image encoder per stage (spec section 5).

Shape legend: ``b`` batch, ``s`` a stage's image size, ``t`` words, ``l`` the pooled
encoder layers, ``k`` the width of a pooled feature ``v_l``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.discriminator import Discriminator, DiscriminatorOutput
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.masked_softmax import masked_log_softmax
from textedit.layers.packed_lstm import PackedBiLSTM
from textedit.registry.api import register_discriminator

__all__ = ["TAGANDiscriminator", "TAGANDiscriminatorConfig"]

_FINAL_SIZE = 4


class TAGANDiscriminatorConfig(ComponentConfig):
    stage_sizes: tuple[int, ...] = Field(
        (64, 128),
        min_length=1,
        description="image size of each stage, coarse to fine (powers of two, at least 8)",
    )
    word_dim: int = Field(256, gt=0, description="width of the text encoder's word features")
    base_channels: int = Field(
        32, gt=0, description="channels of the first stride-2 block; doubled per block"
    )
    max_channels: int = Field(256, gt=0, description="cap on the channels of any block")
    num_layers: int = Field(
        3, gt=0, description="how many of the last encoder blocks give a pooled feature v_l"
    )
    hidden_dim: int = Field(
        128, gt=0, description="hidden size per direction of the discriminator's own Bi-LSTM"
    )
    pooling: Literal["mean", "max"] = Field(
        "mean",
        description="how each conformity feature v_l pools its block's map over positions: "
        "'mean' (TAGAN's global average pooling) or 'max'. When the described parts are small "
        "(each part of the generated birds covers 1-3% of the image), the average is dominated "
        "by the background and the conformity branch learns very slowly (mimnet_64 on the "
        "birds, D alone at batch 16, lr 2e-4: chance for 800 steps with 'mean'; 0.67 "
        "matched-vs-mismatched pairwise accuracy with 'max' and word_norm); the maximum tells "
        "whether a part's colour detector fires anywhere. The reality branch is unaffected.",
    )
    word_norm: bool = Field(
        False,
        description="normalise each given word feature (LayerNorm without affine weights) "
        "before the discriminator's Bi-LSTM, so that the scale of the text encoder's word "
        "features (mean |x| about 0.14 for mimnet_64's encoder at initialisation) does not "
        "slow the text-adaptive classifiers; false = use them as given",
    )

    @field_validator("stage_sizes")
    @classmethod
    def _sizes(cls, sizes: tuple[int, ...]) -> tuple[int, ...]:
        for s in sizes:
            if s < 2 * _FINAL_SIZE or s & (s - 1):
                raise ValueError(f"stage sizes must be powers of two >= {2 * _FINAL_SIZE}, got {s}")
        return sizes


class _StageEncoder(nn.Module):
    """``(b, 3, s, s)`` -> reality logit ``(b,)`` and pooled features ``[(b, k_l)]``."""

    def __init__(self, size: int, config: TAGANDiscriminatorConfig):
        super().__init__()
        blocks = (size // _FINAL_SIZE).bit_length() - 1
        widths = [min(config.max_channels, config.base_channels << k) for k in range(blocks)]
        self.encoder = DownsamplingEncoder(
            3, widths, kernel_size=4, activation="leaky_relu", norm_first=False
        )
        self.num_layers = min(config.num_layers, blocks)
        self.widths = widths[-self.num_layers :]
        # D_r(x) = σ(w · v + b) with v the final 4×4 map, as TAGAN's classifier conv
        self.reality = nn.Conv2d(widths[-1], 1, _FINAL_SIZE)
        self.pooling = config.pooling

    def forward(self, image: Tensor) -> tuple[Tensor, list[Tensor]]:
        features = self.encoder(image)
        last = features[-self.num_layers :]
        if self.pooling == "max":
            pooled = [f.amax(dim=(2, 3)) for f in last]
        else:
            pooled = [f.mean(dim=(2, 3)) for f in last]
        return self.reality(features[-1]).flatten(), pooled


@register_discriminator("tagan")
class TAGANDiscriminator(Discriminator):
    """Reality and text-adaptive conformity per stage, in log space.

    Per stage, an encoder gives pooled features ``v_l`` of its last ``num_layers`` blocks
    (averaged over positions, or their maximum under ``pooling="max"``).
    The discriminator's own Bi-LSTM turns the given word features into ``h_i``; each word
    makes local classifiers ``f_{i,l}(v_l) = σ(W_l(h_i) · v_l + b_l(h_i))``, weighted over
    layers by ``β_{i,l} = softmax_l(B h_i)`` and over words by ``α_i = softmax_i(ū · h_i)``
    (``ū`` the mean of the ``h_i``, padded words masked):
    ``log D_c = Σ_i α_i logsumexp_l(log β_{i,l} + logsigmoid(W_l(h_i) · v_l + b_l(h_i)))``.
    The Bi-LSTM is shared by the stages; the classifier heads are per stage.
    """

    config_class = TAGANDiscriminatorConfig

    def __init__(self, config: TAGANDiscriminatorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        self.stages = nn.ModuleList(_StageEncoder(s, c) for s in c.stage_sizes)
        self.text_lstm = PackedBiLSTM(c.word_dim, c.hidden_dim)
        h = self.text_lstm.output_dim
        # one Linear per (stage, layer) giving W_l(h_i) and b_l(h_i) in one go
        self.classifiers = nn.ModuleList(
            nn.ModuleList(nn.Linear(h, k + 1) for k in stage.widths) for stage in self.stages
        )
        self.layer_weights = nn.ModuleList(nn.Linear(h, stage.num_layers) for stage in self.stages)

    @classmethod
    def example_config(cls) -> TAGANDiscriminatorConfig:
        return cls.config_class(
            stage_sizes=(8, 16),
            word_dim=6,
            base_channels=4,
            max_channels=8,
            num_layers=2,
            hidden_dim=4,
        )

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return self.config.stage_sizes

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    def forward(
        self, images: Sequence[Tensor], text: TextEncoding | None = None
    ) -> DiscriminatorOutput:
        """Score one image batch per stage.

        Args:
            images: per stage ``(b, 3, s, s)`` in ``[-1, 1]``, coarse to fine.
            text: the description to check conformity with, or None for reality only.

        Returns:
            :class:`DiscriminatorOutput`: ``(b,)`` reality logits and ``(b,)`` ``log D_c``
            per stage (conformity None without text).
        """
        self.check_stage_images(images)
        scored = [stage(image) for stage, image in zip(self.stages, images)]
        reality = tuple(logit for logit, _ in scored)
        if text is None:
            return DiscriminatorOutput(reality, None)
        if text.words.shape[-1] != self.config.word_dim:
            raise InputError(
                f"{type(self).__name__} reads {self.config.word_dim}-wide word features, got "
                f"{tuple(text.words.shape)}; set discriminator.word_dim to the text encoder's word_dim"
            )
        mask = text.word_mask
        words = text.words
        if self.config.word_norm:
            words = F.layer_norm(words, words.shape[-1:])
        hidden, _ = self.text_lstm(words, mask)  # h_i, (b, t, 2·hidden)
        mean = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp_min(1)  # ū
        log_alpha = masked_log_softmax(torch.einsum("btk,bk->bt", hidden, mean), mask)
        alpha = log_alpha.exp()  # exactly zero at padded words
        conformity = []
        for k, (_, pooled) in enumerate(scored):
            log_beta = torch.log_softmax(self.layer_weights[k](hidden), dim=-1)  # (b, t, l)
            local = []
            for classifier, v in zip(self.classifiers[k], pooled):
                params = classifier(hidden)  # (b, t, k_l + 1)
                logits = torch.einsum("btk,bk->bt", params[..., :-1], v) + params[..., -1]
                local.append(nn.functional.logsigmoid(logits))
            per_word = torch.logsumexp(log_beta + torch.stack(local, dim=-1), dim=-1)  # (b, t)
            conformity.append((alpha * per_word).sum(1))
        return DiscriminatorOutput(reality, tuple(conformity))
