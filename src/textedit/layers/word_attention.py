"""Spatial positions attend over word-level features (MIM-Net's FIR, spec section 4)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from textedit.layers.masked_softmax import masked_softmax

__all__ = ["WordAttention"]


class WordAttention(nn.Module):
    """``γ_{pq,j} = softmax_j(u_pq · W_t t_j)``, ``r_pq = Σ_j γ_{pq,j} W_t t_j``.

    Args:
        texture_dim: width ``d`` of the word-level textures ``t_j``.
        channels: channels ``c`` of the feature map ``U`` (and of ``W_t t_j``).
    """

    def __init__(self, texture_dim: int, channels: int):
        super().__init__()
        self.projection = nn.Linear(texture_dim, channels, bias=False)  # W_t
        # the dot product sums c terms: start with unsaturated attention
        nn.init.normal_(self.projection.weight, std=1.0 / math.sqrt(texture_dim * channels))

    def forward(
        self, features: Tensor, texture: Tensor, word_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Attend.

        Args:
            features: ``(b, c, h, w)`` the upsampled features ``U``.
            texture: ``(b, t, d)`` word-level textures.
            word_mask: ``(b, t)`` bool, True on real words.

        Returns:
            ``(R, γ)``: ``(b, c, h, w)`` attended textures and ``(b, t, h, w)`` weights
            (zero at padded words, summing to 1 over the words at each position).
        """
        b, c, h, w = features.shape
        values = self.projection(texture)  # (b, t, c)
        queries = features.flatten(2)  # (b, c, hw)
        scores = torch.bmm(values, queries)  # (b, t, hw)
        gamma = masked_softmax(scores, word_mask[:, :, None], dim=1)
        attended = torch.bmm(values.transpose(1, 2), gamma)  # (b, c, hw)
        return attended.view(b, c, h, w), gamma.view(b, -1, h, w)
