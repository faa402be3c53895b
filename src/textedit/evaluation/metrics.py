"""The metrics as pure functions of tensors, and the catalogue that documents each one.

Shape legend: ``b`` batch, ``H``/``W`` image size, ``n`` items of a set, ``d`` feature width,
``k`` classes. Pixel metrics take images in ``[0, 1]`` (convert ``[-1, 1]`` tensors with
:func:`to_unit`) and return one value per image, ``(b,)``; set metrics take one row per item.

Per-image values are aggregated by :func:`mean_std` (NaN entries, e.g. a mask that is
empty for that image, are left out and not counted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

from textedit.errors import InputError
from textedit.evaluation.catalogue import METRICS, MetricInfo, metric_info

__all__ = [
    "to_unit",
    "quantize",
    "diff",
    "manipulative_precision",
    "masked_abs_change",
    "psnr",
    "ssim",
    "inception_score",
    "mean_std",
    "MetricInfo",
    "METRICS",
    "metric_info",
]

#: PSNR of identical images is infinite; we report this ceiling instead (MSE floor 1e-10)
PSNR_CEILING_DB = 100.0


def _check_pair(a: Tensor, b: Tensor, what: str) -> None:
    if a.shape != b.shape or a.ndim != 4:
        raise InputError(
            f"{what} takes two (b, c, H, W) batches of the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; resize one to the other's size first"
        )


def to_unit(image: Tensor) -> Tensor:
    """``[-1, 1]`` pixels mapped to ``[0, 1]`` (clamped)."""
    return ((image.float() + 1.0) * 0.5).clamp(0.0, 1.0)


def quantize(image: Tensor) -> Tensor:
    """``[0, 1]`` pixels rounded to 8 bits, as a PNG stores them (still in ``[0, 1]``).

    The evaluation measures outputs after this rounding, so that every per-image number can
    be recomputed from the PNG files it saves.
    """
    return torch.round(image.clamp(0.0, 1.0) * 255.0) / 255.0


def diff(image: Tensor, output: Tensor) -> Tensor:
    """Diff: mean absolute pixel difference, ``(b,)`` in ``[0, 1]``.

    Args:
        image: ``(b, 3, H, W)`` inputs in ``[0, 1]``.
        output: ``(b, 3, H, W)`` outputs in ``[0, 1]``.
    """
    _check_pair(image, output, "diff")
    return (image.float() - output.float()).abs().flatten(1).mean(1)


def manipulative_precision(diff_value: Tensor | float, sim_value: Tensor | float) -> Tensor | float:
    """MP = (1 − Diff) × Sim, elementwise (ManiGAN's manipulative precision)."""
    return (1.0 - diff_value) * sim_value


def masked_abs_change(image: Tensor, output: Tensor, mask: Tensor) -> Tensor:
    """Mean absolute change inside ``mask``, ``(b,)``; NaN where the mask is empty.

    Args:
        image: ``(b, c, H, W)`` in ``[0, 1]``.
        output: ``(b, c, H, W)`` in ``[0, 1]``.
        mask: ``(b, 1, H, W)`` weights in ``[0, 1]`` (1 = counted).
    """
    _check_pair(image, output, "masked_abs_change")
    if (
        mask.ndim != 4
        or mask.shape[0] != image.shape[0]
        or mask.shape[1] != 1
        or mask.shape[2:] != image.shape[2:]
    ):
        raise InputError(
            f"mask must be (b, 1, H, W) = {(image.shape[0], 1, *image.shape[2:])}, got "
            f"{tuple(mask.shape)}"
        )
    mask = mask.float()
    weight = mask.flatten(1).sum(1) * image.shape[1]
    total = ((image.float() - output.float()).abs() * mask).flatten(1).sum(1)
    return torch.where(
        weight > 0, total / weight.clamp_min(1e-12), torch.full_like(total, float("nan"))
    )


def psnr(target: Tensor, output: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB (peak 1), ``(b,)``; identical images give 100 dB."""
    _check_pair(target, output, "psnr")
    mse = (target.float() - output.float()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CEILING_DB / 10)))


def _gaussian_window(size: int, sigma: float, device: torch.device) -> Tensor:
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).float()


def ssim(target: Tensor, output: Tensor, window: int = 11, sigma: float = 1.5) -> Tensor:
    """Structural similarity (Wang et al. 2004), ``(b,)`` in ``[-1, 1]``, 1 for identical images.

    Gaussian window of ``window`` pixels and standard deviation ``sigma``, constants
    ``K1 = 0.01``, ``K2 = 0.03``, data range 1; the SSIM map is computed per channel at every
    pixel, the borders reflected, and averaged over pixels and channels (torchmetrics'
    convention; skimage averages only where the window fits). Images smaller than the window
    use the largest odd window that fits.
    """
    _check_pair(target, output, "ssim")
    x, y = target.float(), output.float()
    c = x.shape[1]
    smallest = min(x.shape[-1], x.shape[-2])
    window = min(window, smallest if smallest % 2 else smallest - 1)
    pad = (window - 1) // 2
    g = _gaussian_window(window, sigma, x.device)
    kernel = (g[:, None] * g[None, :]).expand(c, 1, window, window).contiguous()

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(F.pad(t, (pad, pad, pad, pad), mode="reflect"), kernel, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    value = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    )
    return value.flatten(1).mean(1)


def inception_score(probs: Tensor, splits: int = 10) -> tuple[float, float]:
    """Inception Score ``exp(E_x KL(p(y|x) ‖ p(y)))``: mean and std over ``splits`` chunks.

    Args:
        probs: ``(n, k)`` class probabilities of ``n`` images (rows sum to 1), in the
            order the images were drawn; split into ``splits`` consecutive chunks as in
            Salimans et al.'s reference code.
        splits: number of chunks (fewer when ``n < splits``).

    Returns:
        ``(mean, std)`` over the chunks; the score lies in ``[1, k]``.
    """
    if probs.ndim != 2 or probs.shape[0] < 1:
        raise InputError(f"inception_score takes (n, k) probabilities, got {tuple(probs.shape)}")
    p = probs.double().clamp_min(1e-16)
    splits = max(1, min(splits, p.shape[0]))
    scores = []
    for chunk in torch.tensor_split(p, splits):
        marginal = chunk.mean(0, keepdim=True)
        kl = (chunk * (chunk.log() - marginal.log())).sum(1).mean()
        scores.append(math.exp(kl.item()))
    t = torch.tensor(scores, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False)) if len(scores) > 1 else 0.0


def mean_std(values: Iterable[float | None]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (``ddof = 1``) and count of the finite values.

    ``None`` and NaN are skipped; with no value the mean and std are NaN, with one the std is 0.
    """
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if not v:
        return float("nan"), float("nan"), 0
    mean = sum(v) / len(v)
    if len(v) == 1:
        return mean, 0.0, 1
    var = sum((x - mean) ** 2 for x in v) / (len(v) - 1)
    return mean, math.sqrt(var), len(v)
