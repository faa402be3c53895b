"""MIM-Net: the composition (:mod:`.model`), its presets (:mod:`.presets`) and its
two-stage training recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.mimnet import presets  # noqa: F401  (registration)
from textedit.models.mimnet.model import MIMNet, MIMNetConfig
from textedit.models.mimnet.recipe import MIMNetLosses, MIMNetRecipe, MIMNetRecipeConfig

__all__ = ["MIMNet", "MIMNetConfig", "MIMNetRecipe", "MIMNetRecipeConfig", "MIMNetLosses"]
