"""The shape TAGAN, SISGAN and ManiGAN share: a text encoder, a generator that reads the
image and the text only (no memory, structure or localizer; one stage or several), and a
discriminator.

Shape legend: ``b`` batch, ``H`` the input size (``image_size``).

:class:`TextConditionedEditor` wires the widths (the text encoder's word and sentence widths
into the generator and the discriminator, ``image_size`` into both) and implements the
model contract's edit pass; each model package subclasses it with its own config (its
default slot types) and its own recipe.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from textedit.config.base import CompositionConfig
from textedit.interfaces.component import Component
from textedit.interfaces.composition import SlotBuilder, wire
from textedit.interfaces.discriminator import DiscriminatorOutput
from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.model import EditingModel, EditOutput
from textedit.interfaces.text_encoder import TextEncoding, TokenBatch

__all__ = ["TextConditionedEditor"]


class TextConditionedEditor(EditingModel):
    """Base of compositions with the slots ``text_encoder``, ``generator`` and
    ``discriminator`` whose generator needs no memory, structure or localizer.

    Wiring: text encoder ``word_dim`` / ``sentence_dim`` -> generator and discriminator;
    ``image_size`` -> generator ``image_size`` and discriminator ``image_size`` or
    ``stage_sizes`` (whichever its type has).
    """

    @classmethod
    def build_components(
        cls, config: CompositionConfig, given: dict[str, Component]
    ) -> dict[str, Component]:
        build = SlotBuilder(config, given)
        text = build("text_encoder")
        widths = {"word_dim": text.word_dim, "sentence_dim": text.sentence_dim}
        generator = build("generator", wire(config.generator, image_size=config.image_size, **widths))
        build(
            "discriminator",
            wire(
                config.discriminator,
                image_size=config.image_size,
                stage_sizes=tuple(generator.stage_sizes),
                **widths,
            ),
        )
        return build.built

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        """Output size of each stage of the generator, coarse to fine (one stage: ``(H,)``)."""
        return tuple(self.generator.stage_sizes)

    def generate(self, image: Tensor, text: TokenBatch | TextEncoding) -> GeneratorOutput:
        """``image`` edited as ``text`` says."""
        return self.generator(image, self.encode_text(text))

    def discriminate(self, images: Sequence[Tensor], text: TextEncoding | None = None) -> DiscriminatorOutput:
        """The discriminator's scores of one image batch per stage."""
        return self.discriminator(list(images), text)

    def forward(self, image: Tensor, tokens: TokenBatch | TextEncoding) -> GeneratorOutput:
        """Same as :meth:`generate`."""
        return self.generate(image, tokens)

    def edit_tensors(self, images: Tensor, tokens: TokenBatch) -> EditOutput:
        """The edit pass: the generator on the description, every stage's image (these
        models have no maps)."""
        return EditOutput(images=tuple(self.generate(images, tokens).images))
