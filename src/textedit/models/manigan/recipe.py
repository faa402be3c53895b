"""ManiGAN's training recipe (Li et al., 2020; the reference code's ``trainer.py`` and
``miscc/losses.py``, the main module's training).

Shape legend: ``b`` batch, ``H`` the input size, ``s`` a stage's size.

ManiGAN learns to *reconstruct*: the generator redraws each image from its own description
and features, ``x̂ = G(x, t)``, and edits at test time by being given another description.
One iteration, per stage ``s``, with ``D_r`` the unconditional and ``D_c`` the
sentence-conditioned discriminator (AttnGAN's loss):

* discriminator: ``½[−log D_r(x) − log D_c(x, t)] + ⅓[−log(1 − D_r(x̂)) − log(1 − D_c(x̂, t))
  − log(1 − D_c(x, t̂))]``, with ``t̂`` another image's description;
* generator: ``−log D_r(x̂) − log D_c(x̂, t)`` summed over stages, plus
  ``reconstruction · Σ_s ‖x̂_s − x_s‖₁``, plus the conditioning augmentation's KL term, plus
  (with a DAMSM) ``damsm ·`` DAMSM's word and sentence losses between the last stage and
  ``t`` (AttnGAN's λ = 5 for birds).

Departures, as the generator's: the reference's perceptual term (MSE between frozen
ImageNet VGG-16 ``relu2_2`` features of ``x̂_s`` and ``x_s``) needs weights that cannot be
fetched here, so an L1 reconstruction at every stage (``reconstruction``) stands in for it;
the text encoder learns with the generator (the reference freezes DAMSM's); the
discriminator's word-level correlation term of the reference is left out (the reference
computes it on a tensor with no gradient, so it trains nothing). The DAMSM term is optional
(``damsm``: the folder of a DAMSM trained by ``textedit train-damsm``, frozen). With the
paired losses of generated data, the generator also edits each image by the mismatched
description, ``G(x, t̂)``, in the same pass, and those edits are compared with the
renderer's true edits (:class:`~textedit.losses.PairedLossWeights`).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from textedit.interfaces.generator import resize_to_stages
from textedit.interfaces.recipe import Recipe, TrainingBatch, TrainingContext, adversarial_groups, frozen
from textedit.losses import (
    PairedLossWeights,
    PairedRecipeConfig,
    attngan_discriminator_loss,
    generator_adversarial_loss,
    kl_loss,
    paired_edit_loss,
    reconstruction_loss,
)
from textedit.models.damsm import DAMSM
from textedit.models.manigan.model import ManiGAN
from textedit.registry.api import register_recipe

__all__ = ["ManiGANLosses", "ManiGANRecipe", "ManiGANRecipeConfig"]


class ManiGANLosses(PairedLossWeights):
    """ManiGAN's loss weights and the optional paired losses."""

    reconstruction: float = Field(1.0, ge=0, description="Weight of Σ_s L1(G(x, t)_s, x_s): the stand-in for the reference's VGG-16 feature loss (weight 1), whose ImageNet weights cannot be fetched here.")
    kl: float = Field(1.0, ge=0, description="Weight of the conditioning augmentation's KL term (the reference: 1).")
    damsm: float = Field(5.0, ge=0, description="λ: weight of DAMSM's word and sentence losses on the last stage (AttnGAN and ManiGAN on birds: 5); read only when the recipe's damsm names a model.")


class ManiGANRecipeConfig(PairedRecipeConfig):
    """ManiGAN's objective."""

    losses: ManiGANLosses = Field(default_factory=ManiGANLosses, description="Loss weights.")
    damsm: str | None = Field(
        None,
        description="Folder of a DAMSM saved by `textedit train-damsm` (its run folder or model/): "
        "frozen, it adds DAMSM's matching loss between the last stage's image and its description, "
        "as ManiGAN trains. None: no DAMSM term. Evaluating Sim with the same DAMSM then favours "
        "the model trained against it.",
    )


@register_recipe("manigan")
class ManiGANRecipe(Recipe):
    """One discriminator step and one generator step per iteration (module docstring).

    Parameter groups: ``generator`` (text encoder and generator) and ``discriminator``. The
    DAMSM, when named, is frozen and in no group.
    """

    config_class = ManiGANRecipeConfig
    trains = (ManiGAN,)
    discriminator_scores = ("reality", "conformity")
    progress = {"d": "d_total", "g": "g_total", "rec": "rec_l1"}

    model: ManiGAN
    config: ManiGANRecipeConfig

    def __init__(self, config: ManiGANRecipeConfig, model: nn.Module, context: TrainingContext) -> None:
        super().__init__(config, model, context)
        # the trainer has placed the model
        self.damsm = None if config.damsm is None else DAMSM.frozen(config.damsm, model.device)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        image, b = batch.image, batch.image.shape[0]
        reals = resize_to_stages(image, m.stage_sizes)
        own_texts, other_texts = list(batch.tokens.texts), list(batch.mismatched_tokens.texts)
        d_params = list(m.discriminator.parameters())
        with frozen(d_params), self.context.autocast():
            # the descriptions encoded in one batch; with the paired losses the generator
            # redraws each image from its own and edits it by the other in one pass
            both = m.encode_text(m.tokenize(own_texts + other_texts))
            text, text_hat = both.select(range(b)), both.select(range(b, 2 * b))
            if w.paired():
                out = m.generate(torch.cat([image, image]), both)
                fake = [i[:b] for i in out.images]
                edit = [i[b:] for i in out.images]
            else:
                out = m.generate(image, text)
                fake, edit = list(out.images), None
        # discriminator step
        with self.context.autocast():
            loss_d, parts_d = attngan_discriminator_loss(
                m.discriminate(reals, text.detach()),
                m.discriminate(reals, text_hat.detach()),
                m.discriminate([f.detach() for f in fake], text.detach()),
            )
        self.context.update("discriminator", loss_d)
        # generator step
        with frozen(d_params), self.context.autocast():
            g_adv, _ = generator_adversarial_loss(m.discriminate(fake, text.detach()), 1.0)
            rec = reconstruction_loss(fake, reals)
            kl = kl_loss(out.aux["ca_mean"], out.aux["ca_logvar"])
            loss_g = g_adv + w.reconstruction * rec + w.kl * kl
            parts: dict[str, float] = {}
            if self.damsm is not None:
                damsm = self.damsm.losses(fake[-1].float(), own_texts)["loss"]
                loss_g = loss_g + w.damsm * damsm
                parts["damsm"] = damsm.item()
            if edit is not None:
                truths = resize_to_stages(batch.mismatched_target, m.stage_sizes)
                weights = resize_to_stages(batch.mismatched_weight, m.stage_sizes)
                paired, paired_parts = paired_edit_loss(w, edit, truths, reals, weights)
                loss_g = loss_g + paired
                parts.update(paired_parts)
        self.context.update("generator", loss_g)
        return {
            "d_total": loss_d.item(), "g_total": loss_g.item(), "g_adversarial": g_adv.item(),
            "rec_l1": rec.item(), "kl": kl.item(), **parts_d, **parts,
        }
