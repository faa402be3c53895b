"""TAGAN: the composition (:mod:`.model`), its presets (:mod:`.presets`) and its training
recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.tagan import presets  # noqa: F401  (registration)
from textedit.models.tagan.model import TAGAN, TAGANConfig
from textedit.models.tagan.recipe import TAGANLosses, TAGANRecipe, TAGANRecipeConfig

__all__ = ["TAGAN", "TAGANConfig", "TAGANRecipe", "TAGANRecipeConfig", "TAGANLosses"]
