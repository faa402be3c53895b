"""GAN-INT-CLS (text to image): the composition (:mod:`.model`), its presets (:mod:`.presets`)
and its training recipe (:mod:`.recipe`); importing this registers all three."""

from textedit.models.gan_int_cls import presets  # noqa: F401  (registration)
from textedit.models.gan_int_cls.model import GANINTCLS, GANINTCLSConfig
from textedit.models.gan_int_cls.recipe import GANINTCLSLosses, GANINTCLSRecipe, GANINTCLSRecipeConfig

__all__ = ["GANINTCLS", "GANINTCLSConfig", "GANINTCLSRecipe", "GANINTCLSRecipeConfig", "GANINTCLSLosses"]
