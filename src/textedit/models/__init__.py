"""Built-in models, one package each (composition, presets, training recipe); importing
this registers them. MIM-Net, TAGAN, SISGAN and ManiGAN edit; AttnGAN, StackGAN++ and
GAN-INT-CLS draw from text alone. :mod:`.damsm` is a composition that is not an editing model (the
encoders behind the Sim metric)."""

from textedit.models.attngan import AttnGAN, AttnGANConfig, AttnGANRecipe
from textedit.models.damsm import DAMSM, DAMSMConfig
from textedit.models.gan_int_cls import GANINTCLS, GANINTCLSConfig, GANINTCLSRecipe
from textedit.models.manigan import ManiGAN, ManiGANConfig, ManiGANRecipe
from textedit.models.mimnet import MIMNet, MIMNetConfig, MIMNetRecipe
from textedit.models.sisgan import SISGAN, SISGANConfig, SISGANRecipe
from textedit.models.stackgan import StackGAN, StackGANConfig, StackGANRecipe
from textedit.models.tagan import TAGAN, TAGANConfig, TAGANRecipe

__all__ = [
    "MIMNet", "MIMNetConfig", "MIMNetRecipe",
    "TAGAN", "TAGANConfig", "TAGANRecipe",
    "SISGAN", "SISGANConfig", "SISGANRecipe",
    "ManiGAN", "ManiGANConfig", "ManiGANRecipe",
    "AttnGAN", "AttnGANConfig", "AttnGANRecipe",
    "StackGAN", "StackGANConfig", "StackGANRecipe",
    "GANINTCLS", "GANINTCLSConfig", "GANINTCLSRecipe",
    "DAMSM", "DAMSMConfig",
]
