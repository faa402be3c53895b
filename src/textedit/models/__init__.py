"""Built-in models, one package each (composition, presets, training recipe); importing
this registers them. :mod:`.damsm` is a composition that is not an editing model (the
encoders behind the Sim metric)."""

from textedit.models.damsm import DAMSM, DAMSMConfig
from textedit.models.manigan import ManiGAN, ManiGANConfig, ManiGANRecipe
from textedit.models.mimnet import MIMNet, MIMNetConfig, MIMNetRecipe
from textedit.models.sisgan import SISGAN, SISGANConfig, SISGANRecipe
from textedit.models.tagan import TAGAN, TAGANConfig, TAGANRecipe

__all__ = [
    "MIMNet", "MIMNetConfig", "MIMNetRecipe",
    "TAGAN", "TAGANConfig", "TAGANRecipe",
    "SISGAN", "SISGANConfig", "SISGANRecipe",
    "ManiGAN", "ManiGANConfig", "ManiGANRecipe",
    "DAMSM", "DAMSMConfig",
]
