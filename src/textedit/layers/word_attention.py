"""Spatial positions attend over word-level features (MIM-Net's FIR, spec section 4)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from textedit.layers.masked_softmax import masked_softmax
from textedit.layers.memory_format import positions, positions_product

__all__ = ["WordAttention"]


class WordAttention(nn.Module):
    """``γ_{pq,j} = softmax_j(u_pq · W_t t_j)``, ``r_pq = Σ_j γ_{pq,j} W_t t_j``.

    With ``key_dim`` the attention also reads the contextual word features ``e_j``
    (``key_dim`` wide) beside the textures: keys ``W_k [e_j; t_j] / √c`` and values
    ``W_t t_j + W_v e_j``.

    Args:
        texture_dim: width ``d`` of the word-level textures ``t_j``.
        channels: channels ``c`` of the feature map ``U`` (and of ``W_t t_j``).
        key_dim: width of the word features that join the keys and values; None: the
            paper's attention over the textures alone.
    """

    def __init__(self, texture_dim: int, channels: int, key_dim: int | None = None):
        super().__init__()
        self.projection = nn.Linear(texture_dim, channels, bias=False)  # W_t
        # the dot product sums c terms: start with unsaturated attention
        nn.init.normal_(self.projection.weight, std=1.0 / math.sqrt(texture_dim * channels))
        self.keys = None if key_dim is None else nn.Linear(key_dim + texture_dim, channels)
        self.word_values = None if key_dim is None else nn.Linear(key_dim, channels, bias=False)

    def forward(
        self, features: Tensor, texture: Tensor, word_mask: Tensor, words: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Attend.

        Args:
            features: ``(b, c, h, w)`` the upsampled features ``U``.
            texture: ``(b, t, d)`` word-level textures.
            word_mask: ``(b, t)`` bool, True on real words.
            words: ``(b, t, key_dim)`` word features; needed exactly when ``key_dim`` was given.

        Returns:
            ``(R, γ)``: ``(b, c, h, w)`` attended textures and ``(b, t, h, w)`` weights
            (zero at padded words, summing to 1 over the words at each position).
        """
        b, c, h, w = features.shape
        if (words is None) != (self.keys is None):
            raise ValueError("WordAttention takes word features exactly when built with key_dim")
        values = self.projection(texture)  # (b, t, c)
        queries = positions(features).transpose(1, 2)  # (b, c, hw), a view in either layout
        if self.keys is None:
            keys = values
        else:
            words = words.masked_fill(~word_mask[..., None], 0.0).to(texture.dtype)
            keys = self.keys(torch.cat([words, texture], dim=-1)) / math.sqrt(c)
            values = values + self.word_values(words)
        scores = torch.bmm(keys.to(queries.dtype), queries)  # (b, t, hw)
        gamma = masked_softmax(scores, word_mask[:, :, None], dim=1)
        # R in the features' layout, so a channels-last network is not converted back and forth
        attended = positions_product(gamma.transpose(1, 2), values, features)
        return attended, gamma.view(b, -1, h, w)

