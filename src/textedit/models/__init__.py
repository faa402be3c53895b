"""Built-in models, one package each (composition, presets, training recipe); importing
this registers them."""

from textedit.models.mimnet import MIMNet, MIMNetConfig, MIMNetRecipe
from textedit.models.sisgan import SISGAN, SISGANConfig, SISGANRecipe
from textedit.models.tagan import TAGAN, TAGANConfig, TAGANRecipe

__all__ = [
    "MIMNet", "MIMNetConfig", "MIMNetRecipe",
    "TAGAN", "TAGANConfig", "TAGANRecipe",
    "SISGAN", "SISGANConfig", "SISGANRecipe",
]
