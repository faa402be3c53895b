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
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from textedit.errors import InputError

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
    if mask.ndim != 4 or mask.shape[0] != image.shape[0] or mask.shape[1] != 1 or mask.shape[2:] != image.shape[2:]:
        raise InputError(f"mask must be (b, 1, H, W) = {(image.shape[0], 1, *image.shape[2:])}, got {tuple(mask.shape)}")
    mask = mask.float()
    weight = mask.flatten(1).sum(1) * image.shape[1]
    total = ((image.float() - output.float()).abs() * mask).flatten(1).sum(1)
    return torch.where(weight > 0, total / weight.clamp_min(1e-12), torch.full_like(total, float("nan")))


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
    value = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
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


@dataclass(frozen=True)
class MetricInfo:
    """What a reported number means.

    Attributes:
        name: the key in records and reports.
        title: a short column title.
        definition: how it is computed (one sentence).
        range: its value range.
        better: ``"higher"``, ``"lower"`` or ``"none"`` (a proxy with no better direction).
        group: ``paper`` (the paper's metrics), ``generated`` (stand-ins on generated data),
            ``exact`` (against the true edit) or ``identity``.
        per_item: a mean over items (± std over items) or one number for the set.
    """

    name: str
    title: str
    definition: str
    range: str
    better: str
    group: str
    per_item: bool = True


_ALL = [
    MetricInfo("is", "IS", "Inception Score of the outputs (Inception-v3 of the TF FID weights, 1008 classes, 299 px bilinear); ± is the std over 10 splits", "[1, 1008]", "higher", "paper", False),
    MetricInfo("fid", "FID", "Fréchet distance of Inception pool features (2048-d) between the outputs and the reference images", "[0, ∞)", "lower", "paper", False),
    MetricInfo("kid", "KID", "kernel inception distance (cubic polynomial kernel, torchmetrics) between outputs and reference images; ± over subsets", "(-∞, ∞), ≈ 0 for equal sets", "lower", "paper", False),
    MetricInfo("sim", "Sim", "cosine similarity of the DAMSM image feature of the output and the DAMSM sentence feature of the description", "[-1, 1]", "higher", "paper"),
    MetricInfo("diff", "Diff", "mean absolute pixel difference between input and output, pixels in [0, 1]", "[0, 1]", "none", "paper"),
    MetricInfo("mp", "MP", "manipulative precision (1 − Diff) × Sim, per item", "[-1, 1]", "higher", "paper"),
    MetricInfo("cs", "CS", "classifier score: exp of the mean over attribute heads of E_x KL(p(y|x) ‖ p(y)) of the in-project attribute classifier; ± over 10 splits", "[1, geometric mean of head sizes]", "higher", "generated", False),
    MetricInfo("cfd", "CFD", "Fréchet distance of the attribute classifier's penultimate features between outputs and reference images", "[0, ∞)", "lower", "generated", False),
    MetricInfo("attr_acc", "attribute acc.", "share of the attributes the description asks for that the output shows", "[0, 1]", "higher", "exact"),
    MetricInfo("edit_acc", "edit acc.", "share of the requested attributes that differ from the input that the output shows", "[0, 1]", "higher", "exact"),
    MetricInfo("colour_acc", "colour acc.", "share of requested part colours shown (read by comparison with the renderer's 11 candidates)", "[0, 1]", "higher", "exact"),
    MetricInfo("size_acc", "size acc.", "share of requested part sizes shown (read by comparison with the renderer's 2 candidates)", "[0, 1]", "higher", "exact"),
    MetricInfo("pattern_acc", "pattern acc.", "share of requested part patterns shown (read by the attribute classifier)", "[0, 1]", "higher", "exact"),
    MetricInfo("bg_change", "background change", "mean absolute change outside the object (outside the object before and after the true edit), pixels in [0, 1]", "[0, 1]", "lower", "exact"),
    MetricInfo("unmentioned_change", "unmentioned-part change", "mean absolute change on the parts the description does not mention (away from every changed part), pixels in [0, 1]", "[0, 1]", "lower", "exact"),
    MetricInfo("l1", "L1 to truth", "mean absolute difference between the output and the true edit, pixels in [0, 1]", "[0, 1]", "lower", "exact"),
    MetricInfo("psnr", "PSNR to truth", "PSNR between the output and the true edit (peak 1; identical images count 100 dB)", "[0, 100] dB", "higher", "exact"),
    MetricInfo("ssim", "SSIM to truth", "SSIM between the output and the true edit (Gaussian 11 px window, σ 1.5)", "[-1, 1]", "higher", "exact"),
    MetricInfo("id_diff", "identity-edit Diff", "Diff between the input and the output for the image's own description (should be near 0)", "[0, 1]", "lower", "identity"),
]

#: every metric textedit reports, by name
METRICS: dict[str, MetricInfo] = {m.name: m for m in _ALL}


def metric_info(name: str) -> MetricInfo:
    """The :class:`MetricInfo` of ``name``; per-part accuracies (``acc.<part>``) are derived."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith("acc."):
        part = name[4:]
        return MetricInfo(name, f"acc. {part}", f"share of the requested attributes of the {part} that the output shows", "[0, 1]", "higher", "exact")
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
