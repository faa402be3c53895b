"""AttnGAN (Xu et al., 2018, "AttnGAN: Fine-Grained Text to Image Generation with
Attentional Generative Adversarial Networks") as a composition: a text encoder, AttnGAN's
multi-stage generator with word attention, and its per-stage discriminators.

Shape legend: ``b`` batch, ``H`` the last stage's size (``image_size``), ``s_k`` the stage
sizes, ``z`` noise width.
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextToImageModel
from textedit.registry.api import register_model

__all__ = ["AttnGAN", "AttnGANConfig"]


class AttnGANConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions (AttnGAN: DAMSM's bidirectional LSTM, pretrained with "
        "the image encoder and frozen: {type: frozen, source: DIR}; by default a bidirectional "
        "LSTM learned with the generator). A frozen DAMSM adds its matching loss through the "
        "recipe's damsm field",
    )
    generator: SlotSpec("generator") = Field(
        "attngan", description="draws the image from the sentence and noise, then refines it with word attention"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "attngan", description="per stage: unconditional and sentence-conditioned logits"
    )
    image_size: int = Field(256, gt=0, description="the last stage's size H")


@register_model("attngan")
class AttnGAN(TextToImageModel):
    """Text-to-image generation, coarse to fine: the first stage draws from the sentence and
    noise, every later stage attends over the words to add detail.

    ``generate(texts, seed=...)`` draws the last stage's images; ``generate_tensors``
    returns every stage's and the last stage's word attention. Trained by
    :class:`~textedit.models.attngan.recipe.AttnGANRecipe`.
    """

    config_class = AttnGANConfig
    default_recipe = "attngan"

    @classmethod
    def example_config(cls) -> AttnGANConfig:
        """A 16-px, two-stage AttnGAN with a few channels per slot."""
        return AttnGANConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={
                "type": "attngan", "num_stages": 2, "condition_dim": 8, "noise_dim": 4,
                "base_channels": 4, "num_residual_blocks": 1,
            },
            discriminator={"type": "attngan", "base_channels": 4, "max_channels": 16},
        )
