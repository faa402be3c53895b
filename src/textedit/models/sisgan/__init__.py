"""SISGAN: the composition (:mod:`.model`), its presets (:mod:`.presets`) and its training
recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.sisgan import presets  # noqa: F401  (registration)
from textedit.models.sisgan.model import SISGAN, SISGANConfig
from textedit.models.sisgan.recipe import SISGANLosses, SISGANRecipe, SISGANRecipeConfig

__all__ = ["SISGAN", "SISGANConfig", "SISGANRecipe", "SISGANRecipeConfig", "SISGANLosses"]
