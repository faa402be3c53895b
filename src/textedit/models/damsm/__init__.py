"""DAMSM (AttnGAN's Deep Attentional Multimodal Similarity Model): a text encoder and an
image encoder trained to agree; the Sim metric of ``textedit eval`` and AttnGAN's DAMSM
term. A composition, not an editing model; ``textedit train-damsm`` trains it."""

from textedit.models.damsm.model import DAMSM, DAMSMConfig, is_legacy_folder, legacy_config

__all__ = ["DAMSM", "DAMSMConfig", "is_legacy_folder", "legacy_config"]
