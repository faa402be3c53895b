"""TAGAN (Nam et al., 2018) as a composition: a text encoder, TAGAN's generator and its
text-adaptive discriminator with word-level local discriminators.

Shape legend: ``b`` batch, ``H`` the input size (``image_size``).
"""

from __future__ import annotations

from pydantic import Field

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.models.text_conditioned import TextConditionedEditor
from textedit.registry.api import register_model

__all__ = ["TAGAN", "TAGANConfig"]


class TAGANConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm",
        description="encodes descriptions (TAGAN: bidirectional GRUs over fastText vectors, one "
        "in the generator and one in the discriminator; here one encoder learned with the "
        "generator, whose word features the discriminator reads through its own Bi-LSTM)",
    )
    generator: SlotSpec("generator") = Field(
        "tagan", description="encoder, conditioning augmentation, residual blocks, decoder"
    )
    discriminator: SlotSpec("discriminator") = Field(
        "tagan", description="unconditional + text-adaptive (word-level local) discriminator"
    )
    image_size: int = Field(128, gt=0, description="input and output size H")


@register_model("tagan")
class TAGAN(TextConditionedEditor):
    """Text-adaptive GAN: edits in one stage from the sentence feature; its discriminator
    judges reality and, word by word, whether the image matches the text.

    Trained by :class:`~textedit.models.tagan.recipe.TAGANRecipe`.
    """

    config_class = TAGANConfig
    default_recipe = "tagan"

    @classmethod
    def example_config(cls) -> TAGANConfig:
        """A 16-px TAGAN with a few channels per slot."""
        return TAGANConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 16, "hidden_dim": 8},
            generator={"type": "tagan", "condition_dim": 8, "base_channels": 4, "max_channels": 16, "num_downsamples": 2, "num_residual_blocks": 1},
            discriminator={"type": "tagan", "base_channels": 4, "max_channels": 8, "num_layers": 2, "hidden_dim": 4},
        )
