"""ManiGAN: the composition (:mod:`.model`), its presets (:mod:`.presets`) and its training
recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.manigan import presets  # noqa: F401  (registration)
from textedit.models.manigan.model import ManiGAN, ManiGANConfig
from textedit.models.manigan.recipe import ManiGANLosses, ManiGANRecipe, ManiGANRecipeConfig

__all__ = ["ManiGAN", "ManiGANConfig", "ManiGANRecipe", "ManiGANRecipeConfig", "ManiGANLosses"]
