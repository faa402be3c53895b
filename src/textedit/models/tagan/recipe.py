"""TAGAN's training recipe (Nam et al., 2018; the reference code's ``train.py``).

Shape legend: ``b`` batch, ``H`` the input size.

One iteration: a discriminator step — real images with their own descriptions judged real
and matching, with mismatched descriptions judged not matching, and the edits
``G(x, t̂)`` judged fake — then a generator step: ``G(x, t̂)`` judged real and matching
``t̂``, plus the reconstruction ``G(x, t)`` of the image from its own description (L1), plus
the KL term of the conditioning augmentation on both passes. Loss weights are the
reference's (λ_cond 10, λ_recon 0.2, KL 0.5); the optional paired losses of generated data
are shared with the other recipes (:class:`~textedit.losses.PairedLossWeights`).
"""

from __future__ import annotations

from pydantic import Field
from torch import nn

from textedit.interfaces.recipe import Recipe, TrainingBatch, adversarial_groups, frozen
from textedit.losses import (
    PairedLossWeights,
    PairedRecipeConfig,
    discriminator_loss,
    generator_adversarial_loss,
    kl_loss,
    paired_edit_loss,
    reconstruction_loss,
)
from textedit.models.tagan.model import TAGAN
from textedit.registry.api import register_recipe

__all__ = ["TAGANLosses", "TAGANRecipe", "TAGANRecipeConfig"]


class TAGANLosses(PairedLossWeights):
    """TAGAN's loss weights (reference ``train.py``) and the optional paired losses."""

    conditional: float = Field(10.0, ge=0, description="λ_cond: the text-adaptive conditional terms (the discriminator's are halved, as in the reference: ½[matching + mismatching]).")
    reconstruction: float = Field(0.2, ge=0, description="λ_recon: L1 between G(x, t) with the image's own description and x.")
    kl: float = Field(0.5, ge=0, description="Weight of the conditioning augmentation's KL term (on both generator passes).")


class TAGANRecipeConfig(PairedRecipeConfig):
    """TAGAN's objective."""

    losses: TAGANLosses = Field(default_factory=TAGANLosses, description="Loss weights.")


@register_recipe("tagan")
class TAGANRecipe(Recipe):
    """One discriminator step and one generator step per iteration (module docstring).

    Parameter groups: ``generator`` (text encoder and generator) and ``discriminator``.
    """

    config_class = TAGANRecipeConfig
    trains = (TAGAN,)
    discriminator_scores = ("reality", "conformity")
    progress = {"d": "d_total", "g": "g_total", "rec": "rec_l1"}

    model: TAGAN
    config: TAGANRecipeConfig

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        image = batch.image
        d_params = list(m.discriminator.parameters())
        with frozen(d_params), self.context.autocast():
            text = m.encode_text(batch.tokens)
            text_hat = m.encode_text(batch.mismatched_tokens)
            fake = m.generate(image, text_hat)
        # discriminator step
        with self.context.autocast():
            d_real = m.discriminate([image], text.detach())
            d_mismatch = m.discriminate([image], text_hat.detach())
            d_fake = m.discriminate([fake.fine.detach()])
            loss_d, parts_d = discriminator_loss(d_real, d_mismatch, d_fake, w.conditional / 2)
        self.context.update("discriminator", loss_d)
        # generator step: the edit, then the reconstruction from the image's own description
        with frozen(d_params), self.context.autocast():
            loss_g, parts_g = generator_adversarial_loss(
                m.discriminate(fake.images, text_hat.detach()), w.conditional
            )
            recon = m.generate(image, text)
            rec = reconstruction_loss(recon.images, [image])
            kl = kl_loss(fake.aux["ca_mean"], fake.aux["ca_logvar"]) + kl_loss(
                recon.aux["ca_mean"], recon.aux["ca_logvar"]
            )
            loss_g = loss_g + w.reconstruction * rec + w.kl * kl
            if w.paired():
                paired, parts = paired_edit_loss(
                    w, fake.images, [batch.mismatched_target], [image], [batch.mismatched_weight]
                )
                loss_g = loss_g + paired
                parts_g.update(parts)
        self.context.update("generator", loss_g)
        return {
            "d_total": loss_d.item(), "g_total": loss_g.item(), "rec_l1": rec.item(), "kl": kl.item(),
            **parts_d, **parts_g,
        }
