"""StackGAN++ (Zhang et al., 2018, "StackGAN++: Realistic Image Synthesis with Stacked
Generative Adversarial Networks") as a composition: a text encoder, the tree-like generator
whose every stage reads the conditioning-augmented sentence, and per-stage discriminators
(unconditional and sentence-conditioned, the joint discriminators AttnGAN kept).

Shape legend: ``b`` batch, ``H`` the last stage's size (``image_size``), ``z`` noise width.

StackGAN (the two-stage original, trained stage by stage) is the same network family; this
composition is its jointly trained successor, StackGAN++.
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextToImageModel
from textedit.registry.api import register_model

__all__ = ["StackGAN", "StackGANConfig"]


class StackGANConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions, of which only the sentence is read (StackGAN++: a "
        "pretrained char-CNN-RNN embedding; here a bidirectional LSTM learned with the "
        "generator, or a DAMSM's, frozen: {type: frozen, source: DIR})",
    )
    generator: SlotSpec("generator") = Field(
        "stackgan", description="draws the image from the sentence and noise, every stage conditioned on the sentence"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "attngan", description="per stage: unconditional and sentence-conditioned logits (StackGAN++'s joint discriminator)"
    )
    image_size: int = Field(256, gt=0, description="the last stage's size H")


@register_model("stackgan")
class StackGAN(TextToImageModel):
    """Text-to-image generation, coarse to fine, every stage conditioned on the sentence.

    ``generate(texts, seed=...)`` draws the last stage's images; ``generate_tensors``
    returns every stage's. Trained by :class:`~textedit.models.stackgan.recipe.StackGANRecipe`.
    """

    config_class = StackGANConfig
    default_recipe = "stackgan"

    @classmethod
    def example_config(cls) -> StackGANConfig:
        """A 16-px, two-stage StackGAN++ with a few channels per slot."""
        return StackGANConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={
                "type": "stackgan", "num_stages": 2, "condition_dim": 8, "noise_dim": 4,
                "base_channels": 4, "num_residual_blocks": 1,
            },
            discriminator={"type": "attngan", "base_channels": 4, "max_channels": 16},
        )
