"""GAN-INT-CLS's training recipe (Reed et al., 2016; the reference's ``main_cls_int.lua``).

Shape legend: ``b`` batch, ``H`` the image size, ``d_s`` sentence width.

With ``D`` the matching-aware discriminator's logit (real *and* matching), ``t`` each real
image's own description, ``t̂`` another image's, and ``x̂ = G(z, t)``:

* discriminator (CLS): ``−log D(x, t) − ½[log(1 − D(x, t̂)) + log(1 − D(x̂, t))]``: a real
  image with the wrong text is a third kind of fake;
* generator: ``−log D(x̂, t)``, plus (INT) ``interpolation · −log D(G(z, t_β), t_β)`` with
  ``t_β = β s(t) + (1 − β) s(t̂)`` an interpolation of the two sentence features (the paper:
  β = 0.5). No real image matches ``t_β``, so the discriminator is not trained on it: the
  term only asks the generator to fill the gaps between descriptions with plausible images.

The reference reads a pretrained, fixed char-CNN-RNN embedding; here the ``text_encoder``
slot either learns with the generator (``bilstm``, config ``gan_int_cls64_birds``) or is a
DAMSM's, trained beforehand for image-text matching and frozen (``frozen``, config
``gan_int_cls64_birds_damsm``).
"""

from __future__ import annotations

import dataclasses

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.recipe import Recipe, RecipeConfig, TrainingBatch, adversarial_groups, frozen
from textedit.interfaces.text_encoder import TextEncoding
from textedit.losses import matching_logits
from textedit.models.gan_int_cls.model import GANINTCLS
from textedit.registry.api import register_recipe

__all__ = ["GANINTCLSLosses", "GANINTCLSRecipe", "GANINTCLSRecipeConfig"]


class GANINTCLSLosses(ComponentConfig):
    """GAN-INT-CLS's loss weights."""

    interpolation: float = Field(1.0, ge=0, description="Weight of the INT term (0: GAN-CLS alone).")
    beta: float = Field(0.5, ge=0, le=1, description="β of the interpolated sentence β s(t) + (1 − β) s(t̂) (the paper: 0.5).")


class GANINTCLSRecipeConfig(RecipeConfig):
    """GAN-INT-CLS's objective."""

    losses: GANINTCLSLosses = Field(default_factory=GANINTCLSLosses, description="Loss weights.")


@register_recipe("gan_int_cls")
class GANINTCLSRecipe(Recipe):
    """One discriminator step and one generator step per iteration (module docstring).

    Parameter groups: ``generator`` (text encoder and generator) and ``discriminator``.
    """

    config_class = GANINTCLSRecipeConfig
    trains = (GANINTCLS,)
    discriminator_scores = ("matching",)
    progress = {"d": "d_total", "g": "g_total"}

    model: GANINTCLS
    config: GANINTCLSRecipeConfig

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        image, b = batch.image, batch.image.shape[0]
        d_params = list(m.discriminator.parameters())

        def judge(drawn_or_real: Tensor, text: TextEncoding) -> Tensor:
            return matching_logits(m.discriminate([drawn_or_real], text.detach()), "GAN-INT-CLS")

        with frozen(d_params), self.context.autocast():
            both = m.encode_text(m.tokenize(list(batch.tokens.texts) + list(batch.mismatched_tokens.texts)))
            text, text_hat = both.select(range(b)), both.select(range(b, 2 * b))
            fake = m.draw(text).fine
        # discriminator step (CLS)
        with self.context.autocast():
            real = judge(image, text)
            wrong = judge(image, text_hat)
            faked = judge(fake.detach(), text)
            d_real = -F.logsigmoid(real).mean()
            d_wrong, d_fake = -F.logsigmoid(-wrong).mean(), -F.logsigmoid(-faked).mean()
            loss_d = d_real + (d_wrong + d_fake) / 2
        self.context.update("discriminator", loss_d)
        # generator step (+ INT)
        with frozen(d_params), self.context.autocast():
            g_adv = -F.logsigmoid(judge(fake, text)).mean()
            loss_g = g_adv
            parts: dict[str, float] = {}
            if w.interpolation:
                mixed = dataclasses.replace(text, sentence=w.beta * text.sentence + (1 - w.beta) * text_hat.sentence)
                drawn = m.draw(mixed).fine
                g_int = -F.logsigmoid(judge(drawn, mixed)).mean()
                loss_g = loss_g + w.interpolation * g_int
                parts["g_interpolation"] = g_int.item()
        self.context.update("generator", loss_g)
        return {
            "d_total": loss_d.item(), "g_total": loss_g.item(), "g_adversarial": g_adv.item(),
            "d_real": d_real.item(), "d_wrong": d_wrong.item(), "d_fake": d_fake.item(), **parts,
        }
