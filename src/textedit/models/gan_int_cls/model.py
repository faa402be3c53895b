"""GAN-INT-CLS (Reed et al., 2016, "Generative Adversarial Text to Image Synthesis") as a
composition: a text encoder, a DCGAN generator conditioned on the sentence, and the
matching-aware discriminator (the one SISGAN took over: ``sisgan``).

Shape legend: ``b`` batch, ``H`` the image size (``image_size``), ``z`` noise width.
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextToImageModel
from textedit.registry.api import register_model

__all__ = ["GANINTCLS", "GANINTCLSConfig"]


class GANINTCLSConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions, of which only the sentence is read (GAN-INT-CLS: a "
        "char-CNN-RNN embedding pretrained for joint retrieval; here a bidirectional LSTM "
        "learned with the generator, or a DAMSM's, frozen: {type: frozen, source: DIR})",
    )
    generator: SlotSpec("generator") = Field(
        "gan_int_cls", description="draws the image from the compressed sentence and noise, one stage"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "sisgan",
        description="matching-aware: one logit that the image is real and matches the sentence "
        "(GAN-INT-CLS's discriminator, which SISGAN reuses)",
    )
    image_size: int = Field(64, gt=0, description="size H of the images it draws")


@register_model("gan_int_cls")
class GANINTCLS(TextToImageModel):
    """Text-to-image generation in one stage, trained with the matching-aware discriminator
    (CLS) and interpolated descriptions (INT).

    ``generate(texts, seed=...)`` draws the images. Trained by
    :class:`~textedit.models.gan_int_cls.recipe.GANINTCLSRecipe`.
    """

    config_class = GANINTCLSConfig
    default_recipe = "gan_int_cls"

    @classmethod
    def example_config(cls) -> GANINTCLSConfig:
        """A 16-px GAN-INT-CLS with a few channels per slot."""
        return GANINTCLSConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={"type": "gan_int_cls", "condition_dim": 8, "noise_dim": 4, "base_channels": 4, "max_channels": 16},
            discriminator={"type": "sisgan", "condition_dim": 8, "base_channels": 4, "max_channels": 16},
        )
