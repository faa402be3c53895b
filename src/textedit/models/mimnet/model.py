"""MIM-Net as a composition of six slots (spec sections 1-6).

Shape legend: ``b`` batch, ``H`` the input size (``image_size``), ``t`` words.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from pydantic import Field
from torch import Tensor

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.interfaces.component import Component
from textedit.interfaces.composition import SlotBuilder, wire
from textedit.interfaces.discriminator import DiscriminatorOutput
from textedit.interfaces.generator import GeneratorOutput, resize_to_stages
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.model import EditingModel, EditOutput
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding, TokenBatch
from textedit.registry.api import register_model
from textedit.utils.caller import warn_caller

__all__ = ["MIMNet", "MIMNetConfig"]


class MIMNetConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        "bilstm", description="encodes descriptions into word features"
    )
    memory_bank: SlotSpec("memory_bank") = Field(
        "key_value", description="texture memories read by the words"
    )
    structure_extractor: SlotSpec("structure_extractor") = Field(
        "edge_cnn", description="boundary features F_b of the input"
    )
    localizer: SlotSpec("localizer") = Field("tlu", description="where the edit applies (the TLU)")
    generator: SlotSpec("generator") = Field("mimnet", description="ICM + FIR generator")
    discriminator: SlotSpec("discriminator") = Field(
        "tagan", description="one reality + text-adaptive score per stage"
    )
    image_size: int = Field(
        128, gt=0, description="input size H; outputs are H/2 (coarse) and H (fine)"
    )


#: what a generator must list in ``Generator.uses`` to read each of MIM-Net's other slots
_READ_BY_GENERATOR = {"memory": "memory_bank", "structure": "structure_extractor", "localizer": "localizer"}


@register_model("mimnet")
class MIMNet(EditingModel):
    """Memory-based image manipulation network.

    Slots are built in dependency order and each takes the widths it shares with the others
    from the slots built before it, so one change (say a text encoder of another width)
    re-wires the rest: text encoder ``word_dim`` -> memory bank, generator, discriminator;
    memory ``slot_dim`` -> generator ``texture_dim`` and localizer ``texture_dim``;
    ``image_size`` -> generator; generator ``image_size / feature_size`` -> structure
    extractor ``reduction``; extractor ``out_channels`` -> generator ``structure_channels``;
    generator ``channels`` -> localizer ``channels``; generator stage sizes -> discriminator.
    A wired field is only set on slot types that have it.

    Methods its recipe (:class:`~textedit.models.mimnet.recipe.MIMNetRecipe`) uses:
    :meth:`reconstruct`, :meth:`manipulate`, :meth:`random_memory_pass`,
    :meth:`discriminate`, :meth:`stage_images`; editing: :meth:`edit_tensors` (through
    :meth:`~textedit.interfaces.model.EditingModel.edit`).
    """

    config_class = MIMNetConfig
    default_recipe = "mimnet"

    @classmethod
    def example_config(cls) -> MIMNetConfig:
        """A 16-px MIM-Net with a few channels per slot (trains a step in well under a second)."""
        return MIMNetConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 8, "hidden_dim": 6},
            memory_bank={"type": "key_value", "num_slots": 5, "slot_dim": 4},
            structure_extractor={"type": "edge_cnn", "channels": 4},
            generator={"type": "mimnet", "feature_size": 4, "channels": 8, "base_channels": 4},
            discriminator={"type": "tagan", "base_channels": 4, "max_channels": 8, "num_layers": 2, "hidden_dim": 4},
        )

    @classmethod
    def build_components(
        cls, config: MIMNetConfig, given: dict[str, Component]
    ) -> dict[str, Component]:
        build = SlotBuilder(config, given)
        text = build("text_encoder")
        memory = build("memory_bank", wire(config.memory_bank, word_dim=text.word_dim))
        generator_spec = wire(
            config.generator,
            image_size=config.image_size,
            word_dim=text.word_dim,
            sentence_dim=text.sentence_dim,
            texture_dim=memory.slot_dim,
        )
        feature_size = getattr(build.built.get("generator", generator_spec).config, "feature_size", None)
        structure_spec = config.structure_extractor
        if feature_size:
            structure_spec = wire(structure_spec, reduction=config.image_size // feature_size)
        structure = build("structure_extractor", structure_spec)
        generator = build(
            "generator", wire(generator_spec, structure_channels=structure.out_channels)
        )
        unread = [slot for use, slot in _READ_BY_GENERATOR.items() if use not in generator.uses]
        if unread:
            warn_caller(
                f"MIM-Net's generator {type(generator).__name__} does not read its {', '.join(unread)}: "
                f"those slots take no part in its edits (a generator of another system reads only "
                f"the text and the image)",
                UserWarning,
            )
        channels = getattr(generator, "feature_channels", None)
        wired = {"texture_dim": memory.slot_dim, **({"channels": channels} if channels else {})}
        build("localizer", wire(config.localizer, **wired))
        build(  # every width a discriminator type may read (TAGAN's words, AttnGAN's sentence, SISGAN's size)
            "discriminator",
            wire(
                config.discriminator,
                word_dim=text.word_dim,
                sentence_dim=text.sentence_dim,
                image_size=config.image_size,
                stage_sizes=tuple(generator.stage_sizes),
            ),
        )
        return build.built

    # ------------------------------------------------------------------ pieces
    @property
    def stage_sizes(self) -> tuple[int, ...]:
        """Output size of each stage, coarse to fine."""
        return tuple(self.generator.stage_sizes)

    def read_memory(self, text: TextEncoding, return_attention: bool = True) -> MemoryRead:
        """``(b, t, d)`` word-level textures read from the memory bank."""
        return self.memory_bank(text.words, text.word_mask, return_attention=return_attention)

    def extract_structure(self, image: Tensor) -> Structure:
        """Boundary map and features of ``(b, 3, H, H)`` images (reusable across passes)."""
        return self.structure_extractor(image)

    def generate(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead,
        structure: Structure | None = None,
    ) -> GeneratorOutput:
        """Run the generator with this model's localizer on given textures."""
        if structure is None:
            structure = self.extract_structure(image)
        return self.generator(image, text, memory, structure, self.localizer)

    def stage_images(self, image: Tensor) -> tuple[Tensor, ...]:
        """``image`` resized to each stage's size (reconstruction targets, real inputs of D)."""
        return resize_to_stages(image, self.stage_sizes)

    # ----------------------------------------------------------- for the trainer
    def reconstruct(
        self, image: Tensor, tokens: TokenBatch | TextEncoding, structure: Structure | None = None
    ) -> GeneratorOutput:
        """Rebuild ``image`` from its own description (reconstruction stage: L_rec, L_pgt).

        The output carries ``texture_feature`` (``W_g g``) and ``localized_feature``
        (``p``) for L_pgt, and the memory attention.
        """
        text = self.encode_text(tokens)
        return self.generate(image, text, self.read_memory(text), structure)

    def manipulate(
        self, image: Tensor, tokens: TokenBatch | TextEncoding, structure: Structure | None = None
    ) -> GeneratorOutput:
        """Edit ``image`` as another description says (adversarial stage)."""
        text = self.encode_text(tokens)
        return self.generate(image, text, self.read_memory(text), structure)

    def random_memory_pass(
        self,
        image: Tensor,
        tokens: TokenBatch | TextEncoding,
        generator: torch.Generator | None = None,
        structure: Structure | None = None,
    ) -> GeneratorOutput:
        """Edit ``image`` with textures mixed by Dirichlet(1) weights instead of the words'
        attention (L_mem); ``tokens`` only decide how many words there are."""
        text = self.encode_text(tokens)
        weights = self.memory_bank.sample_convex_weights(text.word_mask, generator=generator)
        return self.generate(image, text, self.memory_bank.read(weights, text.word_mask), structure)

    def discriminate(
        self, images: Sequence[Tensor], text: TextEncoding | None = None
    ) -> DiscriminatorOutput:
        """Reality logits and ``log D_c`` per stage; ``images`` one batch per stage."""
        return self.discriminator(list(images), text)

    def forward(self, image: Tensor, tokens: TokenBatch | TextEncoding) -> GeneratorOutput:
        """Same as :meth:`manipulate`."""
        return self.manipulate(image, tokens)

    # --------------------------------------------------------------- editing
    def edit_tensors(self, images: Tensor, tokens: TokenBatch) -> EditOutput:
        """The edit pass of :meth:`~textedit.interfaces.model.EditingModel.edit`: the
        adversarial stage's pass, with the TLU map, the boundary map and the attention maps."""
        structure = self.extract_structure(images)
        out = self.manipulate(images, tokens, structure)
        return EditOutput(
            images=tuple(out.images),
            localization=out.localization,
            word_attention=out.word_attention,
            memory_attention=out.memory_attention,
            boundary=structure.boundary,
        )
