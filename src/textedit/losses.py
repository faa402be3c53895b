"""The losses training recipes share, in log space.

Shape legend: ``b`` batch, ``s`` a stage's size. Discriminator outputs are reality *logits*
and conformity *log-probabilities* (see :mod:`textedit.interfaces.discriminator`), so every
``log D`` and ``log(1 − D)`` below is computed without ever forming ``D`` itself.

The adversarial terms are MIM-Net's (spec section 6) and TAGAN's; the paired terms
(:class:`PairedLossWeights`, :func:`paired_edit_loss`) supervise an edit with the
renderer's true edit, which only generated data has, and any recipe can switch them on.

DAMSM's matching losses (AttnGAN's ``miscc/losses.py``: :func:`words_loss`,
:func:`sentence_loss`, :func:`damsm_loss`) score how well images and descriptions agree
through a text encoder and an image encoder trained together (``b`` pairs, ``t`` words,
``d`` the common width, ``h``/``w`` the region grid): ``textedit train-damsm`` minimises
them, the Sim metric reads the same encoders, and a recipe can add them as AttnGAN's DAMSM
term.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from textedit.config.base import ComponentConfig
from textedit.errors import TextEditError
from textedit.interfaces.discriminator import DiscriminatorOutput, log1mexp
from textedit.interfaces.recipe import RecipeConfig
from textedit.interfaces.image_encoder import ImageEncoding
from textedit.interfaces.text_encoder import TextEncoding

__all__ = [
    "PairedLossWeights",
    "PairedRecipeConfig",
    "paired_edit_loss",
    "kl_loss",
    "reconstruction_loss",
    "pseudo_ground_truth_loss",
    "edit_region_loss",
    "edit_mask_loss",
    "texture_loss",
    "generator_reality_loss",
    "discriminator_loss",
    "generator_adversarial_loss",
    "attngan_discriminator_loss",
    "matching_logits",
    "colour_consistency_loss",
    "cosine",
    "word_region_similarity",
    "words_loss",
    "sentence_loss",
    "damsm_loss",
]


def reconstruction_loss(outputs: Sequence[Tensor], targets: Sequence[Tensor]) -> Tensor:
    """``Σ_stages ‖x_s − x̂_s‖₁`` (mean absolute error per stage, summed over stages)."""
    return sum(F.l1_loss(o, t) for o, t in zip(outputs, targets, strict=True))


def _changed(truth: Tensor, image: Tensor) -> Tensor:
    """``(b, 1, s, s)`` 1 where the true edit differs from the input, else 0."""
    return ((truth - image).abs().amax(dim=1, keepdim=True) > 1e-3).float()


def _mean_over(values: Tensor, mask: Tensor) -> Tensor:
    """Per image, the ``mask``-weighted mean of ``(b, 1, s, s)`` values (0 where the mask is 0)."""
    return (values * mask).sum(dim=(1, 2, 3)) / mask.sum(dim=(1, 2, 3)).clamp_min(1e-6)


def edit_region_loss(
    outputs: Sequence[Tensor],
    truths: Sequence[Tensor],
    inputs: Sequence[Tensor],
    weights: Sequence[Tensor] | None = None,
) -> Tensor:
    """``Σ_stages`` mean ``|x̂_s − y_s|`` over the pixels where the true edit ``y_s`` differs
    from the input ``x_s`` (per image; an image whose edit changes nothing adds 0).

    The whole-image L1 to the true edit weighs a part that covers 2% of the image at 2%:
    this term weighs the edited region as much as the whole image. With ``weights``
    (``(b, 1, s, s)`` per stage, e.g. :func:`~textedit.data.synthetic.data.part_weights`)
    the mean over the changed pixels is weighted by them, so that a few pixels of a grown
    beak count as much as a recoloured body.
    """
    total = torch.zeros((), device=outputs[0].device)
    for i, (o, y, x) in enumerate(zip(outputs, truths, inputs, strict=True)):
        error = (o.float() - y.float()).abs().mean(dim=1, keepdim=True)
        mask = _changed(y, x)
        if weights is not None:
            mask = mask * weights[i].float()
        total = total + _mean_over(error, mask).mean()
    return total


def edit_mask_loss(
    mask: Tensor | None, truth: Tensor, image: Tensor, parts: Tensor | None = None
) -> Tensor:
    """Binary cross-entropy between an edit mask and where the true edit differs from the input.

    Args:
        mask: ``(b, 1, H, H)`` the generator's edit mask in ``[0, 1]`` (a compositing
            generator's ``localization``).
        truth: ``(b, 3, H, H)`` the true edit; image: ``(b, 3, H, H)`` the input.
        parts: ``(b, 1, H, H)``, non-zero on the changed parts (their
            :func:`~textedit.data.synthetic.data.part_weights`): the mask should be open
            on all of them, not only on the pixels the true edit happens to change (the
            stripes it drew where a part gains a pattern, wherever the renderer put them).

    The changed and unchanged pixels are averaged separately and added (per image), so the
    ~2% of pixels an edit changes weigh as much as the rest.
    """
    if mask is None or mask.shape[-2:] != image.shape[-2:]:
        shape = None if mask is None else tuple(mask.shape)
        raise TextEditError(
            f"losses.edit_mask needs a generator whose localization is an edit mask at the "
            f"output's size {tuple(image.shape[-2:])}, got {shape}; use the mimnet generator "
            f"with output: composite, or set losses.edit_mask to 0"
        )
    changed = _changed(truth, image)
    if parts is not None:
        changed = torch.maximum(changed, (parts > 0).float())
    p = mask.float().clamp(1e-6, 1 - 1e-6)
    return (_mean_over(-p.log(), changed) + _mean_over(-(1 - p).log(), 1 - changed)).mean()


def _texture_features(image: Tensor, window: int) -> Tensor:
    """``(b, 12, s, s)``: per colour channel, the local mean over ``window`` × ``window`` of
    the absolute responses of four oriented derivative filters (0°, 90°, ±45°).

    What a stripe or spot pattern looks like, not where it lies: shifting a pattern by
    part of its period leaves these means (nearly) unchanged, where it changes every pixel.
    """
    x = image.float()
    gx = x[..., :, 2:] - x[..., :, :-2]
    gy = x[..., 2:, :] - x[..., :-2, :]
    gx, gy = gx[..., 1:-1, :], gy[..., :, 1:-1]
    responses = torch.cat([gx.abs(), gy.abs(), (gx + gy).abs() / 2**0.5, (gx - gy).abs() / 2**0.5], dim=1)
    responses = F.pad(responses, (1, 1, 1, 1), mode="replicate")
    return F.avg_pool2d(responses, window, stride=1, padding=window // 2, count_include_pad=False)


def texture_loss(outputs: Sequence[Tensor], truths: Sequence[Tensor], parts: Sequence[Tensor]) -> Tensor:
    """``Σ_stages`` mean ``|T(x̂_s) − T(y_s)|`` over the changed parts, where ``T`` are local
    texture statistics (:func:`_texture_features`, a window of about an eighth of the image).

    Where an edit adds stripes or spots, where they lie is not determined by the input or the
    text (the renderer places them by a seed no model can see): the pixel losses' best answer
    is then the part's plain colour, and a model trained by them alone never draws a pattern.
    This term compares what the pattern looks like instead, so any placement of the right
    pattern scores alike. Stages smaller than 32 px, where a pattern is below a few pixels
    per period, are skipped.

    Args:
        outputs: the edit per stage ``(b, 3, s, s)``; truths: the true edits at the same sizes.
        parts: ``(b, 1, s, s)`` per stage, the changed parts' weights (each part's total 1:
            :func:`~textedit.data.synthetic.data.part_weights`), so every part counts alike.
    """
    total = torch.zeros((), device=outputs[0].device)
    for o, y, w in zip(outputs, truths, parts, strict=True):
        size = o.shape[-1]
        if size < 32:
            continue
        window = (size // 8) | 1
        error = (_texture_features(o, window) - _texture_features(y, window)).abs().mean(dim=1, keepdim=True)
        total = total + _mean_over(error, w.float()).mean()
    return total


def pseudo_ground_truth_loss(texture_feature: Tensor, localized_feature: Tensor) -> Tensor:
    """``‖W_g g − p‖₁`` between the projected global texture and the TLU-pooled image features.

    The pooled features are the target: gradients flow into the texture side only.
    """
    return F.l1_loss(texture_feature, localized_feature.detach())


def generator_reality_loss(out: DiscriminatorOutput) -> Tensor:
    """``Σ_stages −log D_r(x̃)``: the generated images should be judged real."""
    return sum(-F.logsigmoid(logit).mean() for logit in out.reality)


def discriminator_loss(
    real_matched: DiscriminatorOutput,
    real_mismatched: DiscriminatorOutput,
    fake: DiscriminatorOutput,
    conditional_weight: float,
    stage_weights: Sequence[float] | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Per stage ``−[log D_r(x) + log(1 − D_r(G(x, t̂)))] − λ_c [log D_c(x, t) + log(1 − D_c(x, t̂))]``.

    Args:
        real_matched: D on real images with their own descriptions ``t``.
        real_mismatched: D on real images with mismatched descriptions ``t̂`` (only its
            conformity is used).
        fake: D on the manipulated images ``G(x, t̂)`` (only its reality is used).
        conditional_weight: ``λ_c``.
        stage_weights: ``λ_{D,s}`` per stage (default 1).

    Returns:
        The weighted sum over stages and a dict of its parts for logging.
    """
    stages = len(real_matched.reality)
    weights = list(stage_weights) if stage_weights is not None else [1.0] * stages
    total = torch.zeros((), device=real_matched.reality[0].device)
    reality_sum, conformity_sum = 0.0, 0.0
    for s in range(stages):
        reality = -(F.logsigmoid(real_matched.reality[s]).mean() + F.logsigmoid(-fake.reality[s]).mean())
        loss = reality
        if real_matched.conformity is not None and real_mismatched.conformity is not None:
            conformity = -(real_matched.conformity[s].mean() + log1mexp(real_mismatched.conformity[s]).mean())
            loss = loss + conditional_weight * conformity
            conformity_sum += conformity.item()
        reality_sum += reality.item()
        total = total + weights[s] * loss
    return total, {"d_reality": reality_sum, "d_conformity": conformity_sum}


def generator_adversarial_loss(
    fake: DiscriminatorOutput, conditional_weight: float
) -> tuple[Tensor, dict[str, float]]:
    """Per stage ``−log D_r(G(x, t̂)) − λ₁ log D_c(G(x, t̂), t̂)``, summed over stages."""
    reality = generator_reality_loss(fake)
    parts = {"g_reality": reality.item()}
    total = reality
    if fake.conformity is not None:
        conformity = sum(-c.mean() for c in fake.conformity)
        total = total + conditional_weight * conformity
        parts["g_conformity"] = conformity.item()
    return total, parts


def attngan_discriminator_loss(
    real: DiscriminatorOutput, wrong: DiscriminatorOutput, fake: DiscriminatorOutput
) -> tuple[Tensor, dict[str, float]]:
    """AttnGAN's discriminator loss summed over stages (module docstring).

    Args:
        real: D on the real images with their own descriptions.
        wrong: D on the real images with other images' descriptions (its conformity is used).
        fake: D on the generated images with the descriptions they were drawn from.

    Returns:
        The loss and its parts for logging.
    """
    if real.conformity is None or wrong.conformity is None or fake.conformity is None:
        raise TextEditError(
            "AttnGAN's discriminator loss needs a discriminator that scores conformity with the text"
        )
    total = torch.zeros((), device=real.reality[0].device)
    real_sum = fake_sum = wrong_sum = 0.0
    for s in range(len(real.reality)):
        real_s = -(F.logsigmoid(real.reality[s]).mean() + real.conformity[s].mean())
        fake_s = -(F.logsigmoid(-fake.reality[s]).mean() + log1mexp(fake.conformity[s]).mean())
        wrong_s = -log1mexp(wrong.conformity[s]).mean()
        total = total + real_s / 2 + (fake_s + wrong_s) / 3
        real_sum, fake_sum, wrong_sum = real_sum + real_s.item(), fake_sum + fake_s.item(), wrong_sum + wrong_s.item()
    return total, {"d_real": real_sum, "d_fake": fake_sum, "d_wrong": wrong_sum}


def matching_logits(out: DiscriminatorOutput, recipe: str) -> Tensor:
    """``(b,)`` the last stage's logits of a matching-aware discriminator (GAN-INT-CLS's and
    SISGAN's: real *and* matching the text); a clear error naming ``recipe`` for a
    discriminator that has none."""
    if out.matching is None:
        raise TextEditError(
            f"the {recipe} recipe needs a matching-aware discriminator (DiscriminatorOutput.matching), "
            "e.g. discriminator: sisgan"
        )
    return out.matching[-1]


def colour_consistency_loss(images: Sequence[Tensor], mean_weight: float = 1.0, covariance_weight: float = 5.0) -> Tensor:
    """StackGAN++'s colour-consistency regulariser: for consecutive stages, ``λ₁ ‖μ_k − μ_{k−1}‖²
    + λ₂ ‖Σ_k − Σ_{k−1}‖_F²`` with ``μ`` and ``Σ`` the mean and covariance of each image's
    pixel colours, averaged over the batch and summed over stage pairs (0 for one stage).

    Args:
        images: one ``(b, 3, s_k, s_k)`` image per stage.
        mean_weight: ``λ₁`` (StackGAN++: 1).
        covariance_weight: ``λ₂`` (StackGAN++: 5).
    """
    def moments(x: Tensor) -> tuple[Tensor, Tensor]:
        pixels = x.float().flatten(2)  # (b, 3, s²)
        mu = pixels.mean(-1)
        centred = pixels - mu[..., None]
        return mu, centred @ centred.transpose(1, 2) / pixels.shape[-1]

    total = torch.zeros((), device=images[0].device)
    for coarse, fine in zip(images[:-1], images[1:]):
        (m0, c0), (m1, c1) = moments(coarse), moments(fine)
        total = total + mean_weight * (m1 - m0).pow(2).sum(-1).mean() + covariance_weight * (c1 - c0).pow(2).sum((-2, -1)).mean()
    return total


def kl_loss(mean: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(μ, σ²) ‖ N(0, I))`` of a conditioning augmentation, averaged over the batch and
    the condition's dimensions, as the SISGAN and TAGAN reference code computes it.

    Args:
        mean: ``(b, k)`` the condition's mean; logvar: ``(b, k)`` its log-variance.
    """
    mean, logvar = mean.float(), logvar.float()
    return (0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)).mean()


class PairedLossWeights(ComponentConfig):
    """Weights of the paired losses that compare an edit with the renderer's true edit
    (generated data only; a deviation from every paper's unpaired objective, 0 = off)."""

    true_edit: float = Field(
        0.0,
        ge=0,
        description="L1 between G(x, t̂) and the renderer's true edit of x by t̂ at every stage, in the generator's adversarial step: paired supervision that only generated data has (a deviation from the papers' unpaired objectives; 0 = off).",
    )
    edit_region: float = Field(
        0.0,
        ge=0,
        description="L1 between G(x, t̂) and the true edit inside the region the true edit changes, averaged over that region (generated data only): the whole-image true_edit L1 is dominated by the ~98% of pixels that must not change, and its cheapest minimiser ignores the text; 0 = off.",
    )
    edit_region_weighting: Literal["pixel", "part"] = Field(
        "pixel",
        description="How edit_region averages over the changed region: pixel (every changed pixel alike) or part (every changed part alike, so that a beak grown by a few pixels counts as much as a recoloured body).",
    )
    texture: float = Field(
        0.0,
        ge=0,
        description="L1 between local texture statistics (mean absolute oriented derivatives over a window of an eighth of the image) of G(x, t̂) and of the true edit on the changed parts, every part alike (generated data only): the pixel losses cannot teach a pattern whose placement the renderer draws at random, this term scores any placement of the right pattern alike; 0 = off.",
    )

    #: the fields that are paired losses (a subclass adding one lists it here)
    paired_losses: ClassVar[tuple[str, ...]] = ("true_edit", "edit_region", "texture")

    def paired(self) -> list[str]:
        """The paired losses switched on (those that need the true edits of generated data)."""
        return [n for n in self.paired_losses if getattr(self, n) > 0]


class PairedRecipeConfig(RecipeConfig):
    """A recipe config whose ``losses`` include the paired losses (a subclass narrows
    ``losses`` to its own :class:`PairedLossWeights` subclass)."""

    losses: PairedLossWeights = Field(default_factory=PairedLossWeights, description="Loss weights.")

    def true_edit_losses(self) -> list[str]:
        return [f"losses.{name}" for name in self.losses.paired()]


def paired_edit_loss(
    weights: PairedLossWeights,
    outputs: Sequence[Tensor],
    truths: Sequence[Tensor],
    inputs: Sequence[Tensor],
    part_weights: Sequence[Tensor] | None = None,
    decoded: Sequence[Tensor] | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """``true_edit · L1(x̂, y) + edit_region · Σ region-L1 + texture · texture-L1`` per
    :class:`PairedLossWeights`.

    Args:
        weights: the loss weights.
        outputs: the edit, one ``(b, 3, s, s)`` per stage; truths: the true edits and
            inputs: the inputs, resized to the same stages.
        part_weights: ``(b, 1, s, s)`` per stage, read under ``edit_region_weighting: part``
            and by ``texture``.
        decoded: for a generator that composites its output with the input, the images it
            decoded before compositing: the region loss teaches them too, so that the decoder
            learns the edited region even where the mask is still closed.

    Returns:
        The weighted sum and its parts for logging.
    """
    true_l1 = reconstruction_loss(outputs, truths)
    regional = part_weights if weights.edit_region_weighting == "part" else None
    region_l1 = sum(
        edit_region_loss(o, truths, inputs, regional)
        for o in ([outputs] if decoded is None else [outputs, decoded])
    )
    total = weights.true_edit * true_l1 + weights.edit_region * region_l1
    parts = {"true_edit_l1": true_l1.item(), "edit_region_l1": region_l1.item()}
    if weights.texture > 0:
        if part_weights is None:
            raise TextEditError("losses.texture needs the changed parts' weights of generated edit pairs")
        texture = texture_loss(outputs, truths, part_weights)
        total = total + weights.texture * texture
        parts["texture_l1"] = texture.item()
    return total, parts


# ---------------------------------------------------------------------------- DAMSM
def cosine(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    """Cosine similarity along the last axis, the norm product clamped at ``eps`` (AttnGAN)."""
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(eps)


def _mask_classes(scores: Tensor, class_ids: Tensor | None) -> Tensor:
    if class_ids is None:
        return scores
    same = class_ids[:, None] == class_ids[None, :]
    same.fill_diagonal_(False)
    return scores.masked_fill(same.to(scores.device), float("-inf"))


def sentence_loss(
    code: Tensor, sentence: Tensor, gamma3: float = 10.0, class_ids: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """AttnGAN's ``sent_loss``: cross-entropy of ``γ3 · cos(image_i, sentence_j)`` both ways.

    Args:
        code: ``(b, d)`` global image features.
        sentence: ``(b, d)`` sentence features; pair ``i`` matches image ``i``.
        gamma3: ``γ3``, the smoothing factor of the matching softmax.
        class_ids: ``(b,)`` classes; other pairs of one class are left out (AttnGAN).

    Returns:
        ``(loss0, loss1)``: images choosing their sentence, sentences choosing their image.
    """
    scores = cosine(code[:, None, :], sentence[None, :, :]) * gamma3
    scores = _mask_classes(scores, class_ids)
    labels = torch.arange(code.shape[0], device=code.device)
    return F.cross_entropy(scores, labels), F.cross_entropy(scores.t(), labels)


def word_region_similarity(
    regions: Tensor, words: Tensor, word_mask: Tensor, gamma1: float = 4.0, gamma2: float = 5.0
) -> tuple[Tensor, Tensor]:
    """``R(image j, text i)`` for every pair, AttnGAN's ``words_loss`` before scaling.

    Args:
        regions: ``(b, d, h, w)`` region features.
        words: ``(b, t, d)`` word features; ``word_mask`` ``(b, t)`` True on real words.
        gamma1: ``γ1``, the sharpness of the word-to-region attention.
        gamma2: ``γ2``, how much the best-matching words dominate ``R(Q, D)``.

    Returns:
        ``(similarities, attention)``: ``(b_img, b_txt)`` log-sum-exp scores and the ``(b, t,
        h, w)`` attention of each text's words over its own image's regions.
    """
    b, d, h, w = regions.shape
    context = regions.reshape(b, d, h * w)
    # scores[j, i, r, t] = <region r of image j, word t of text i>
    scores = torch.einsum("jdr,itd->jirt", context, words)
    pad = ~word_mask[None, :, None, :]
    attn = scores.masked_fill(pad, float("-inf")).softmax(-1)  # Eq. (8): over words
    attn = (attn.transpose(2, 3) * gamma1).softmax(-1)  # Eq. (9): over regions -> (j, i, t, r)
    weighted = torch.einsum("jdr,jitr->jitd", context, attn)
    row = cosine(words[None].expand_as(weighted), weighted)  # (j, i, t)
    row = (row * gamma2).exp().masked_fill(~word_mask[None], 0.0).sum(-1)  # Eq. (10)
    idx = torch.arange(b, device=regions.device)
    return row.log(), attn[idx, idx].reshape(b, -1, h, w)


def words_loss(
    regions: Tensor,
    words: Tensor,
    word_mask: Tensor,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
    class_ids: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """AttnGAN's ``words_loss``: cross-entropy of ``γ3 · R(image, text)`` both ways.

    Args and shapes as :func:`word_region_similarity`; ``class_ids`` as :func:`sentence_loss`.
    """
    sim, _ = word_region_similarity(regions, words, word_mask, gamma1, gamma2)
    sim = _mask_classes(sim * gamma3, class_ids)
    labels = torch.arange(sim.shape[0], device=sim.device)
    return F.cross_entropy(sim, labels), F.cross_entropy(sim.t(), labels)


def damsm_loss(
    image: ImageEncoding,
    text: TextEncoding,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
    class_ids: Tensor | None = None,
) -> dict[str, Tensor]:
    """The four terms of AttnGAN's ``pretrain_DAMSM.py`` and their sum ``loss``.

    Args:
        image: an image encoder's output for ``b`` images (``regions`` ``(b, d, h, w)``,
            ``global_feature`` ``(b, d)``).
        text: a text encoder's output for their ``b`` descriptions (``words`` ``(b, t, d)``,
            ``sentence`` ``(b, d)``); pair ``i`` matches image ``i``.
        gamma1: ``γ1`` (AttnGAN: 4), the sharpness of the word-to-region attention.
        gamma2: ``γ2`` (AttnGAN: 5), how much the best-matching words dominate.
        gamma3: ``γ3`` (AttnGAN: 10), the smoothing factor of the matching softmax.
        class_ids: ``(b,)`` classes; other pairs of one class are left out.

    Returns:
        ``loss`` (the sum), ``w_loss0``/``w_loss1`` (word level, images choosing texts and
        texts choosing images) and ``s_loss0``/``s_loss1`` (sentence level).
    """
    w0, w1 = words_loss(
        image.regions, text.words, text.word_mask, gamma1, gamma2, gamma3, class_ids
    )
    s0, s1 = sentence_loss(image.global_feature, text.sentence, gamma3, class_ids)
    return {"loss": w0 + w1 + s0 + s1, "w_loss0": w0, "w_loss1": w1, "s_loss0": s0, "s_loss1": s1}
