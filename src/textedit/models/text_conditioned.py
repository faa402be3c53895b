"""The shape TAGAN, SISGAN, ManiGAN, AttnGAN and StackGAN++ share: a text encoder, a
generator that reads the text (and, for the editors, the image) only — no memory, structure
or localizer; one stage or several — and a discriminator.

Shape legend: ``b`` batch, ``H`` the model's size (``image_size``), ``z`` noise width.

:class:`TextConditionedSlots` wires the widths (the text encoder's word and sentence widths
into the generator and the discriminator, ``image_size`` into both);
:class:`TextConditionedEditor` adds the editing contract's pass and
:class:`TextToImageModel` the text-to-image contract's. Each model package subclasses one
of them with its own config (its default slot types) and its own recipe.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from textedit.config.base import CompositionConfig
from textedit.interfaces.component import Component
from textedit.interfaces.composition import SlotBuilder, wire
from textedit.interfaces.discriminator import DiscriminatorOutput
from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.model import EditingModel, EditOutput, GeneratingModel
from textedit.interfaces.text_encoder import TextEncoding, TokenBatch

__all__ = ["TextConditionedSlots", "TextConditionedEditor", "TextToImageModel"]


class TextConditionedSlots:
    """The slots ``text_encoder``, ``generator`` and ``discriminator``, wired: text encoder
    ``word_dim`` / ``sentence_dim`` -> generator and discriminator; ``image_size`` ->
    generator ``image_size`` and discriminator ``image_size`` or ``stage_sizes`` (whichever
    its type has). Mixed into a model contract's base class."""

    generator: Component
    discriminator: Component

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

    def discriminate(self, images: Sequence[Tensor], text: TextEncoding | None = None) -> DiscriminatorOutput:
        """The discriminator's scores of one image batch per stage."""
        return self.discriminator(list(images), text)


class TextConditionedEditor(TextConditionedSlots, EditingModel):
    """Base of editing compositions with :class:`TextConditionedSlots` (TAGAN, SISGAN,
    ManiGAN)."""

    def generate(self, image: Tensor, text: TokenBatch | TextEncoding) -> GeneratorOutput:
        """``image`` edited as ``text`` says."""
        return self.generator(image, self.encode_text(text))

    def forward(self, image: Tensor, tokens: TokenBatch | TextEncoding) -> GeneratorOutput:
        """Same as :meth:`generate`."""
        return self.generate(image, tokens)

    def edit_tensors(self, images: Tensor, tokens: TokenBatch) -> EditOutput:
        """The edit pass: the generator on the description, every stage's image (these
        models have no maps)."""
        return EditOutput(images=tuple(self.generate(images, tokens).images))


class TextToImageModel(TextConditionedSlots, GeneratingModel):
    """Base of text-to-image compositions with :class:`TextConditionedSlots` (StackGAN++,
    AttnGAN): the generator reads no image (``Generator.reads_image`` is False)."""

    @property
    def noise_dim(self) -> int:
        """The generator's noise width ``z``."""
        return int(self.generator.noise_dim)

    def draw(self, text: TokenBatch | TextEncoding, noise: Tensor | None = None) -> GeneratorOutput:
        """The images ``text`` describes, drawn from ``(b, z)`` ``noise`` (None: the
        generator's default, a fresh draw in training mode and zeros in eval mode)."""
        return self.generator(None, self.encode_text(text), noise=noise)

    def forward(self, tokens: TokenBatch | TextEncoding, noise: Tensor | None = None) -> GeneratorOutput:
        """Same as :meth:`draw`."""
        return self.draw(tokens, noise)

    def generate_tensors(self, tokens: TokenBatch, noise: Tensor) -> EditOutput:
        """The generation pass: every stage's image and the last stage's word attention."""
        out = self.draw(tokens, noise)
        return EditOutput(images=tuple(out.images), word_attention=out.word_attention)
