"""SISGAN (Dong et al., 2017, "Semantic Image Synthesis via Adversarial Learning") as a
composition: a text encoder, an encoder–residual–decoder generator conditioned on the
sentence embedding, and a matching-aware discriminator.

Shape legend: ``b`` batch, ``H`` the input size (``image_size``).
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextConditionedEditor
from textedit.registry.api import register_model

__all__ = ["SISGAN", "SISGANConfig"]


class SISGANConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions (SISGAN: a visual-semantic sentence embedding "
        "pretrained and frozen; no such weights can be fetched here, so the encoder learns "
        "with the generator)",
    )
    generator: SlotSpec("generator") = Field(
        "sisgan", description="encoder, fusion with the conditioned sentence, residual blocks, decoder"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "sisgan", description="matching-aware discriminator: one score for real AND matching"
    )
    image_size: int = Field(64, gt=0, description="input and output size H")


@register_model("sisgan")
class SISGAN(TextConditionedEditor):
    """Semantic image synthesis GAN: edits in one stage from the sentence embedding; its
    discriminator scores whether an image is real and matches the sentence.

    Trained by :class:`~textedit.models.sisgan.recipe.SISGANRecipe`.
    """

    config_class = SISGANConfig
    default_recipe = "sisgan"

    @classmethod
    def example_config(cls) -> SISGANConfig:
        """A 16-px SISGAN with a few channels per slot."""
        return SISGANConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={"type": "sisgan", "condition_dim": 8, "base_channels": 4, "max_channels": 16, "num_residual_blocks": 1},
            discriminator={"type": "sisgan", "condition_dim": 8, "base_channels": 4, "max_channels": 16},
        )
