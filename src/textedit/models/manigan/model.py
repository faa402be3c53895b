"""ManiGAN (Li et al., 2020, "ManiGAN: Text-Guided Image Manipulation") as a composition: a
text encoder, ManiGAN's multi-stage generator with affine combination modules, and AttnGAN's
per-stage discriminators.

Shape legend: ``b`` batch, ``H`` the input size (``image_size``), ``s_k`` the stage sizes.
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextConditionedEditor
from textedit.registry.api import register_model

__all__ = ["ManiGAN", "ManiGANConfig"]


class ManiGANConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions (ManiGAN: DAMSM's bidirectional LSTM, pretrained with "
        "the image encoder and frozen; here learned with the generator, and a frozen DAMSM can "
        "add its matching loss through the recipe's damsm field)",
    )
    generator: SlotSpec("generator") = Field(
        "manigan", description="text and image features combined by ACMs at every stage (the main module)"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "attngan", description="per stage: unconditional and sentence-conditioned logits"
    )
    image_size: int = Field(256, gt=0, description="input size H, and the last stage's size")


@register_model("manigan")
class ManiGAN(TextConditionedEditor):
    """Text-guided manipulation by drawing the image again from the text, stage by stage,
    with the input's features scaling and shifting every stage's features (ACM).

    The edit is the last stage's image; ``edit_tensors`` returns every stage's. Trained by
    :class:`~textedit.models.manigan.recipe.ManiGANRecipe`. The detail correction module of
    the paper is not part of it (:mod:`textedit.components.generator.manigan`).
    """

    config_class = ManiGANConfig
    default_recipe = "manigan"

    @classmethod
    def example_config(cls) -> ManiGANConfig:
        """A 16-px, two-stage ManiGAN with a few channels per slot."""
        return ManiGANConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={
                "type": "manigan", "num_stages": 2, "condition_dim": 8, "noise_dim": 4, "base_channels": 4,
                "image_feature_dim": 8, "acm_channels": 4, "num_residual_blocks": 1,
            },
            discriminator={"type": "attngan", "base_channels": 4, "max_channels": 16},
        )
