"""StackGAN++ (text to image): the composition (:mod:`.model`), its presets
(:mod:`.presets`) and its training recipe (:mod:`.recipe`); importing this registers all
three."""

from textedit.models.stackgan import presets  # noqa: F401  (registration)
from textedit.models.stackgan.model import StackGAN, StackGANConfig
from textedit.models.stackgan.recipe import StackGANLosses, StackGANRecipe, StackGANRecipeConfig

__all__ = ["StackGAN", "StackGANConfig", "StackGANRecipe", "StackGANRecipeConfig", "StackGANLosses"]
