"""StackGAN++'s training recipe (Zhang et al., 2018): AttnGAN's
(:mod:`textedit.models.attngan.recipe`, whose discriminator and generator losses are
StackGAN++'s joint conditional and unconditional losses) without the DAMSM term, plus the
optional colour-consistency regulariser between consecutive stages
(:func:`~textedit.losses.colour_consistency_loss`; the paper uses it, weight 50, for
unconditional generation; off by default here).
"""

from __future__ import annotations

from pydantic import Field
from torch import Tensor

from textedit.config.base import ComponentConfig
from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.recipe import RecipeConfig
from textedit.losses import colour_consistency_loss
from textedit.models.attngan.recipe import TextToImageRecipe
from textedit.models.stackgan.model import StackGAN
from textedit.registry.api import register_recipe

__all__ = ["StackGANLosses", "StackGANRecipe", "StackGANRecipeConfig"]


class StackGANLosses(ComponentConfig):
    """StackGAN++'s loss weights."""

    kl: float = Field(1.0, ge=0, description="Weight of the conditioning augmentation's KL term.")
    colour_consistency: float = Field(
        0.0, ge=0, description="α: weight of the colour-consistency regulariser between consecutive stages (0: off)."
    )


class StackGANRecipeConfig(RecipeConfig):
    """StackGAN++'s objective."""

    losses: StackGANLosses = Field(default_factory=StackGANLosses, description="Loss weights.")


@register_recipe("stackgan")
class StackGANRecipe(TextToImageRecipe):
    """StackGAN++'s objective (module docstring)."""

    config_class = StackGANRecipeConfig
    trains = (StackGAN,)
    config: StackGANRecipeConfig

    def extra_generator_loss(
        self, out: GeneratorOutput, texts: list[str]
    ) -> tuple[Tensor | None, dict[str, float]]:
        if not self.config.losses.colour_consistency:
            return None, {}
        colour = colour_consistency_loss(out.images)
        return self.config.losses.colour_consistency * colour, {"colour": colour.item()}
