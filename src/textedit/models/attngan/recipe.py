"""AttnGAN's training recipe (Xu et al., 2018; the reference code's ``trainer.py`` and
``miscc/losses.py``), which StackGAN++'s (:mod:`textedit.models.stackgan.recipe`) extends.

Shape legend: ``b`` batch, ``s`` a stage's size, ``z`` noise width.

One iteration draws ``x̂ = G(z, t)`` for each real image's own description ``t`` and, per
stage ``s``, with ``D_r`` the unconditional and ``D_c`` the sentence-conditioned
discriminator (StackGAN++'s joint loss, which AttnGAN keeps):

* discriminator: ``½[−log D_r(x) − log D_c(x, t)] + ⅓[−log(1 − D_r(x̂)) − log(1 − D_c(x̂, t))
  − log(1 − D_c(x, t̂))]``, with ``t̂`` another image's description (the matching-aware
  negative);
* generator: ``−log D_r(x̂) − log D_c(x̂, t)`` summed over stages, plus the conditioning
  augmentation's KL term (0 for a generator without one, such as GAN-INT-CLS's), plus (with
  a DAMSM) ``damsm ·`` DAMSM's word and sentence losses between the last stage and ``t``
  (AttnGAN's λ = 5 for birds).

The text encoder is the model's ``text_encoder`` slot: the reference reads DAMSM's, frozen —
here the ``frozen`` text encoder reading the DAMSM that ``damsm`` names (config
``attngan64_birds_damsm``) — while a ``bilstm`` there learns with the generator (config
``attngan64_birds``). Departures: the DAMSM term is optional (``damsm`` names the folder of a
DAMSM trained by ``textedit train-damsm``); the discriminator's word-level term of the
reference is left out (as ManiGAN's recipe here, whose discriminator loss this is).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.generator import GeneratorOutput, resize_to_stages
from textedit.interfaces.recipe import (
    Recipe,
    RecipeConfig,
    TrainingBatch,
    TrainingContext,
    adversarial_groups,
    frozen,
)
from textedit.losses import attngan_discriminator_loss, generator_adversarial_loss, kl_loss
from textedit.models.attngan.model import AttnGAN
from textedit.models.damsm import DAMSM
from textedit.models.text_conditioned import TextToImageModel
from textedit.registry.api import register_recipe

__all__ = ["AttnGANLosses", "AttnGANRecipe", "AttnGANRecipeConfig", "TextToImageRecipe"]


class AttnGANLosses(ComponentConfig):
    """AttnGAN's loss weights."""

    kl: float = Field(1.0, ge=0, description="Weight of the conditioning augmentation's KL term (the reference: 1).")
    damsm: float = Field(5.0, ge=0, description="λ: weight of DAMSM's word and sentence losses on the last stage (AttnGAN on birds: 5); read only when the recipe's damsm names a model.")


class AttnGANRecipeConfig(RecipeConfig):
    """AttnGAN's objective."""

    losses: AttnGANLosses = Field(default_factory=AttnGANLosses, description="Loss weights.")
    damsm: str | None = Field(
        None,
        description="Folder of a DAMSM saved by `textedit train-damsm` (its run folder or model/): "
        "frozen, it adds DAMSM's matching loss between the last stage's image and its description, "
        "as AttnGAN trains. None: no DAMSM term. Evaluating Sim with the same DAMSM then favours "
        "the model trained against it.",
    )


class TextToImageRecipe(Recipe):
    """One discriminator step and one generator step per iteration (module docstring), for
    a :class:`~textedit.models.text_conditioned.TextToImageModel`; subclasses add generator
    terms in :meth:`extra_generator_loss`.

    Parameter groups: ``generator`` (text encoder and generator) and ``discriminator``.
    """

    trains: ClassVar[tuple[type, ...]] = (TextToImageModel,)
    discriminator_scores = ("reality", "conformity")
    progress = {"d": "d_total", "g": "g_total", "kl": "kl"}

    model: TextToImageModel

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    def extra_generator_loss(
        self, out: GeneratorOutput, texts: list[str]
    ) -> tuple[Tensor | None, dict[str, float]]:
        """A subclass's further generator terms (weighted) on the drawn images ``out`` of
        ``texts``, and their parts for logging."""
        return None, {}

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        b = batch.image.shape[0]
        reals = resize_to_stages(batch.image, m.stage_sizes)
        own_texts, other_texts = list(batch.tokens.texts), list(batch.mismatched_tokens.texts)
        d_params = list(m.discriminator.parameters())
        with frozen(d_params), self.context.autocast():
            both = m.encode_text(m.tokenize(own_texts + other_texts))
            text, text_hat = both.select(range(b)), both.select(range(b, 2 * b))
            out = m.draw(text)  # fresh noise: the generator is in training mode
            fake = list(out.images)
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
            g_adv, parts_g = generator_adversarial_loss(m.discriminate(fake, text.detach()), 1.0)
            # a generator without conditioning augmentation (GAN-INT-CLS's, in a variant) has no KL term
            kl = kl_loss(out.aux["ca_mean"], out.aux["ca_logvar"]) if "ca_mean" in out.aux else g_adv.new_zeros(())
            loss_g = g_adv + w.kl * kl
            extra, parts = self.extra_generator_loss(out, own_texts)
            if extra is not None:
                loss_g = loss_g + extra
        self.context.update("generator", loss_g)
        return {
            "d_total": loss_d.item(), "g_total": loss_g.item(), "g_adversarial": g_adv.item(),
            "kl": kl.item(), **parts_d, **parts_g, **parts,
        }


@register_recipe("attngan")
class AttnGANRecipe(TextToImageRecipe):
    """AttnGAN's objective (module docstring). The DAMSM, when named, is frozen and in no
    parameter group."""

    config_class = AttnGANRecipeConfig
    trains = (AttnGAN,)
    config: AttnGANRecipeConfig

    def __init__(self, config: AttnGANRecipeConfig, model: nn.Module, context: TrainingContext) -> None:
        super().__init__(config, model, context)
        # the trainer has placed the model
        self.damsm = None if config.damsm is None else DAMSM.frozen(config.damsm, model.device)

    def extra_generator_loss(
        self, out: GeneratorOutput, texts: list[str]
    ) -> tuple[Tensor | None, dict[str, float]]:
        if self.damsm is None:
            return None, {}
        damsm = self.damsm.losses(out.images[-1].float(), texts)["loss"]
        return self.config.losses.damsm * damsm, {"damsm": damsm.item()}
