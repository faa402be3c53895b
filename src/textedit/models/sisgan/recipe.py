"""SISGAN's training recipe (Dong et al., 2017; the reference PyTorch code's ``train.py``).

Shape legend: ``b`` batch, ``H`` the input size.

Each row is edited with a *relevant* description: the first half of the batch gets a
mismatched description (another image's), the rest keep their own. Discriminator step:
``D(x, t)`` real, ``D(x, t̂)`` fake with weight ½, ``D(G(x, t_rel), t_rel)`` fake with weight
½; generator step: ``D(G(x, t_rel), t_rel)`` real, plus the conditioning augmentation's KL
term (weight 1). No reconstruction term. The optional paired losses of generated data are
shared with the other recipes; a row that keeps its own description has the input as its
true edit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from textedit.interfaces.recipe import Recipe, TrainingBatch, adversarial_groups, frozen
from textedit.losses import PairedLossWeights, PairedRecipeConfig, kl_loss, matching_logits, paired_edit_loss
from textedit.models.sisgan.model import SISGAN
from textedit.registry.api import register_recipe

__all__ = ["SISGANLosses", "SISGANRecipe", "SISGANRecipeConfig"]


class SISGANLosses(PairedLossWeights):
    """SISGAN's loss weights (reference ``train.py``) and the optional paired losses."""

    mismatched_real: float = Field(0.5, ge=0, description="Weight of −log(1 − D(x, t̂)): a real image with another image's description is fake.")
    fake: float = Field(0.5, ge=0, description="Weight of −log(1 − D(G(x, t_rel), t_rel)) in the discriminator step.")
    kl: float = Field(1.0, ge=0, description="Weight of the conditioning augmentation's KL term.")


class SISGANRecipeConfig(PairedRecipeConfig):
    """SISGAN's objective."""

    losses: SISGANLosses = Field(default_factory=SISGANLosses, description="Loss weights.")
    mismatched_fraction: float = Field(
        0.5, ge=0, le=1, description="Fraction of each batch (its first rows) edited with a mismatched description; the rest keep their own (the reference: half)."
    )


@register_recipe("sisgan")
class SISGANRecipe(Recipe):
    """One discriminator step and one generator step per iteration (module docstring).

    Parameter groups: ``generator`` (text encoder and generator) and ``discriminator``.
    """

    config_class = SISGANRecipeConfig
    trains = (SISGAN,)
    discriminator_scores = ("matching",)
    progress = {"d": "d_total", "g": "g_total"}

    model: SISGAN
    config: SISGANRecipeConfig

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        image = batch.image
        k = round(self.config.mismatched_fraction * image.shape[0])
        relevant_texts = [*batch.mismatched_tokens.texts[:k], *batch.tokens.texts[k:]]
        d_params = list(m.discriminator.parameters())
        with frozen(d_params), self.context.autocast():
            text = m.encode_text(batch.tokens)
            text_hat = m.encode_text(batch.mismatched_tokens)
            relevant = m.encode_text(m.tokenize(relevant_texts))
            fake = m.generate(image, relevant)
        # discriminator step
        with self.context.autocast():
            real = matching_logits(m.discriminate([image], text.detach()), "SISGAN")
            wrong = matching_logits(m.discriminate([image], text_hat.detach()), "SISGAN")
            faked = matching_logits(m.discriminate([fake.fine.detach()], relevant.detach()), "SISGAN")
            d_real = -F.logsigmoid(real).mean()
            d_wrong = -F.logsigmoid(-wrong).mean()
            d_fake = -F.logsigmoid(-faked).mean()
            loss_d = d_real + w.mismatched_real * d_wrong + w.fake * d_fake
        self.context.update("discriminator", loss_d)
        # generator step
        with frozen(d_params), self.context.autocast():
            g_adv = -F.logsigmoid(matching_logits(m.discriminate(fake.images, relevant.detach()), "SISGAN")).mean()
            kl = kl_loss(fake.aux["ca_mean"], fake.aux["ca_logvar"])
            loss_g = g_adv + w.kl * kl
            parts: dict[str, float] = {}
            if w.paired():
                # rows that keep their own description have the input as their true edit
                own = torch.arange(image.shape[0], device=image.device) >= k
                truth = torch.where(own[:, None, None, None], image, batch.mismatched_target)
                weight = batch.mismatched_weight * (~own)[:, None, None, None]
                paired, parts = paired_edit_loss(w, fake.images, [truth], [image], [weight])
                loss_g = loss_g + paired
        self.context.update("generator", loss_g)
        return {
            "d_total": loss_d.item(), "d_real": d_real.item(), "d_wrong": d_wrong.item(),
            "d_fake": d_fake.item(), "g_total": loss_g.item(), "g_adversarial": g_adv.item(),
            "kl": kl.item(), **parts,
        }
