"""AttnGAN (text to image): the composition (:mod:`.model`), its presets (:mod:`.presets`)
and its training recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.attngan import presets  # noqa: F401  (registration)
from textedit.models.attngan.model import AttnGAN, AttnGANConfig
from textedit.models.attngan.recipe import AttnGANLosses, AttnGANRecipe, AttnGANRecipeConfig

__all__ = ["AttnGAN", "AttnGANConfig", "AttnGANRecipe", "AttnGANRecipeConfig", "AttnGANLosses"]
