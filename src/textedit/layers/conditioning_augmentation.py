"""Conditioning augmentation: a sentence feature -> a sampled condition and its Gaussian.

Shape legend: ``b`` batch, ``d_s`` sentence feature width, ``k`` condition width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ConditioningAugmentation"]


class ConditioningAugmentation(nn.Module):
    """``(b, d_s)`` sentence -> ``(condition, mean, logvar)``, each ``(b, k)``.

    The conditioning augmentation of StackGAN, as SISGAN and TAGAN use it:
    ``μ = lrelu(W_μ s)``, ``log σ = lrelu(W_σ s)`` (LeakyReLU slope 0.2, as the references)
    and ``c = μ + σ ⊙ ε`` with ``ε ~ N(0, I)`` in training mode; ``c = μ`` in eval mode, so
    an edit is deterministic. The returned log-variance is ``2 log σ``, for the KL term.

    ``bias`` adds biases to both projections: TAGAN has them, SISGAN has none
    (``bias=False``). The submodules are ``mean`` and ``log_std``, each
    ``Sequential(Linear, LeakyReLU)``.
    """

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True):
        super().__init__()
        self.mean = nn.Sequential(nn.Linear(in_dim, out_dim, bias=bias), nn.LeakyReLU(0.2))
        self.log_std = nn.Sequential(nn.Linear(in_dim, out_dim, bias=bias), nn.LeakyReLU(0.2))

    def forward(self, sentence: Tensor, epsilon: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        mean, log_std = self.mean(sentence), self.log_std(sentence)
        if epsilon is None:
            epsilon = torch.randn_like(mean) if self.training else None
        condition = mean if epsilon is None else mean + epsilon.to(mean) * log_std.exp()
        return condition, mean, 2 * log_std
