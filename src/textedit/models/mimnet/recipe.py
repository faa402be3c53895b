"""MIM-Net's two-stage training recipe (spec section 6).

Shape legend: ``b`` batch, ``H`` the input size.

Each iteration is one **reconstruction step** (the image with its own description: L1 at
every stage, pseudo ground-truth feature matching, the randomised memory loss; the only step
that updates the memories unless ``memory_updates: every_step``) followed by one
**adversarial step** (a mismatched description; a discriminator step, then a generator step,
with the optional paired losses of generated data).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.recipe import Recipe, TrainingBatch, adversarial_groups, frozen
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.losses import (
    PairedLossWeights,
    PairedRecipeConfig,
    discriminator_loss,
    edit_mask_loss,
    generator_adversarial_loss,
    generator_reality_loss,
    paired_edit_loss,
    pseudo_ground_truth_loss,
    reconstruction_loss,
)
from textedit.models.mimnet.model import MIMNet
from textedit.registry.api import register_recipe

__all__ = ["MIMNetLosses", "MIMNetRecipe", "MIMNetRecipeConfig"]


class MIMNetLosses(PairedLossWeights):
    """The λ of spec section 6, and the optional paired losses of generated data."""

    reconstruction: float = Field(10.0, ge=0, description="λ₂: L1 reconstruction at every stage (reconstruction stage).")
    pseudo_ground_truth: float = Field(1.0, ge=0, description="λ₃: ‖W_g g − p‖₁ between global texture and TLU-pooled features.")
    random_memory: float = Field(1.0, ge=0, description="λ₄: −log D_r of images made from random convex memory weights.")
    generator_conformity: float = Field(10.0, ge=0, description="λ₁: −log D_c(G(x, t̂), t̂) in the generator's adversarial step.")
    discriminator_conformity: float = Field(10.0, ge=0, description="λ_c: the text-conformity terms of the discriminator loss.")
    manipulation_l1: float = Field(0.0, ge=0, description="Optional L1 between G(x, t̂) and x in the adversarial step (TAGAN's content term; 0 = as the spec).")
    edit_mask: float = Field(
        0.0,
        ge=0,
        description="Optional binary cross-entropy between a compositing generator's edit mask (its localization at the output's size) and where the true edit differs from the input, changed and unchanged pixels weighed alike (generated data only): it teaches the mask where to edit directly instead of through the L1 losses, under which it shuts everywhere early in training; 0 = off.",
    )
    edit_mask_region: Literal["changed", "parts"] = Field(
        "changed",
        description="What edit_mask opens the mask on: changed (the pixels the true edit changes) or parts (the whole of every changed part, so that a part gaining stripes or spots is opened wherever the pattern may lie, not only under the renderer's stripes).",
    )
    discriminator_stages: tuple[float, ...] | None = Field(None, description="λ_{D,s} per stage (None: 1 for every stage).")

    paired_losses: ClassVar[tuple[str, ...]] = ("true_edit", "edit_region", "texture", "edit_mask")


class MIMNetRecipeConfig(PairedRecipeConfig):
    """MIM-Net's objective: its loss weights and when the memories learn."""

    losses: MIMNetLosses = Field(default_factory=MIMNetLosses, description="Loss weights (spec section 6).")
    memory_updates: Literal["reconstruction", "every_step"] = Field(
        "reconstruction",
        description="When the memories learn: only in the reconstruction step (the paper), or in the adversarial step's generator update too, where the paired losses live.",
    )


@register_recipe("mimnet")
class MIMNetRecipe(Recipe):
    """The two-stage iteration of spec section 6 (module docstring).

    Parameter groups: ``generator`` (every slot but the discriminator, memories included)
    and ``discriminator``.
    """

    config_class = MIMNetRecipeConfig
    trains = (MIMNet,)
    discriminator_scores = ("reality", "conformity")
    progress = {"rec": "rec_l1", "d": "d_total", "g": "g_adv_total"}

    model: MIMNet
    config: MIMNetRecipeConfig

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return adversarial_groups(self.model)

    @property
    def memory_params(self) -> list[nn.Parameter]:
        """The memory slots (frozen in the adversarial step unless ``every_step``)."""
        return list(self.model.memory_bank.memory_parameters())

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        metrics = self.reconstruction_step(batch)
        metrics.update(self.adversarial_step(batch))
        return metrics

    def _generate(
        self,
        image: Tensor,
        tokens: Any,
        structure: Structure | None = None,
        random_memory_seeds: list[int] | None = None,
    ) -> tuple[TextEncoding, Structure, GeneratorOutput]:
        """Text -> memory read -> generator output.

        With ``random_memory_seeds`` (one per row), the memory is read with random convex
        weights drawn per row from a generator of that seed, so the draw of a row does not
        depend on the batch it sits in (padding, other rows, the process under torchrun).
        """
        m = self.model
        text = m.encode_text(tokens)
        memory: MemoryRead
        if random_memory_seeds is not None:
            mask = text.word_mask
            weights = torch.cat([
                m.memory_bank.sample_convex_weights(
                    mask[i : i + 1], generator=torch.Generator(device=mask.device).manual_seed(seed)
                )
                for i, seed in enumerate(random_memory_seeds)
            ])
            memory = m.memory_bank.read(weights, mask)
        else:
            memory = m.read_memory(text, return_attention=False)
        if structure is None:
            structure = m.extract_structure(image)
        return text, structure, m.generate(image, text, memory, structure)

    def reconstruction_step(self, batch: TrainingBatch) -> dict[str, float]:
        """Own descriptions; updates every generator-side weight, memories included."""
        m, w = self.model, self.config.losses
        image = batch.image
        targets = m.stage_images(image)
        d_params = list(m.discriminator.parameters())
        with frozen(d_params), self.context.autocast():
            _, structure, out = self._generate(image, batch.tokens)
            rec = reconstruction_loss(out.images, targets)
            pgt = (
                pseudo_ground_truth_loss(out.aux["texture_feature"], out.aux["localized_feature"])
                if "texture_feature" in out.aux and "localized_feature" in out.aux
                else torch.zeros((), device=image.device)
            )
            loss = w.reconstruction * rec + w.pseudo_ground_truth * pgt
            mem = torch.zeros((), device=image.device)
            if w.random_memory > 0:
                _, _, random_out = self._generate(
                    image, batch.tokens, structure, random_memory_seeds=batch.seeds
                )
                mem = generator_reality_loss(m.discriminate(random_out.images))
                loss = loss + w.random_memory * mem
        self.context.update("generator", loss)
        return {"rec_l1": rec.item(), "pgt": pgt.item(), "mem": mem.item(), "g_rec_total": loss.item()}

    def adversarial_step(self, batch: TrainingBatch) -> dict[str, float]:
        """Mismatched descriptions; a D step then a G step; memories frozen unless
        ``memory_updates`` is ``every_step``."""
        m, w = self.model, self.config.losses
        image = batch.image
        reals = m.stage_images(image)
        d_params = list(m.discriminator.parameters())
        memory = self.memory_params if self.config.memory_updates == "reconstruction" else []
        with frozen(memory):
            with frozen(d_params), self.context.autocast():
                text_hat, _, fake = self._generate(image, batch.mismatched_tokens)
                own_text = m.encode_text(batch.tokens).detach()
            # discriminator step
            with self.context.autocast():
                d_real = m.discriminate(reals, own_text)
                d_mismatch = m.discriminate(reals, text_hat.detach())
                d_fake = m.discriminate([f.detach() for f in fake.images])
                loss_d, parts_d = discriminator_loss(
                    d_real, d_mismatch, d_fake, w.discriminator_conformity, w.discriminator_stages
                )
            self.context.update("discriminator", loss_d)
            # generator step
            with frozen(d_params), self.context.autocast():
                d_fake = m.discriminate(fake.images, text_hat.detach())
                loss_g, parts_g = generator_adversarial_loss(d_fake, w.generator_conformity)
                if w.manipulation_l1 > 0:
                    loss_g = loss_g + w.manipulation_l1 * reconstruction_loss(fake.images, reals)
                if w.paired():
                    truths = m.stage_images(batch.mismatched_target)
                    weights = m.stage_images(batch.mismatched_weight)
                    paired, parts = paired_edit_loss(w, fake.images, truths, reals, weights, fake.decoded)
                    loss_g = loss_g + paired
                    if w.edit_mask > 0:
                        region = batch.mismatched_weight if w.edit_mask_region == "parts" else None
                        mask_bce = edit_mask_loss(fake.localization, batch.mismatched_target, image, region)
                        loss_g = loss_g + w.edit_mask * mask_bce
                        parts_g["edit_mask_bce"] = mask_bce.item()
                    parts_g.update(parts)
            self.context.update("generator", loss_g)
        return {"d_total": loss_d.item(), "g_adv_total": loss_g.item(), **parts_d, **parts_g}
