"""Add a new model to textedit: a component, a composition, a recipe and a preset, and nothing
else (docs/guides/adding-a-model.md walks through this file).

The model, "FiLM editor", is small on purpose: a generator that encodes the image, modulates
its features by the sentence (feature-wise linear modulation, Perez et al. 2018) and decodes
a residual added to the input; no discriminator; a recipe that trains it with L1
reconstruction and, on generated data, the shared paired losses. Once registered, the
generic trainer trains it, ``model.edit`` edits with it, and the conformance kit checks it —
exactly as for MIM-Net, TAGAN and SISGAN. In a plug-in package the ``register_*`` calls
become entry points (groups ``textedit.generators``, ``textedit.models``,
``textedit.recipes``) in its pyproject.toml.

    python examples/add_a_model.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from pydantic import Field
from torch import Tensor, nn

import textedit
from textedit.config import ComponentConfig, CompositionConfig, SlotSpec
from textedit.interfaces import (
    EditingModel,
    EditOutput,
    Generator,
    GeneratorOutput,
    Preset,
    Recipe,
    TextEncoding,
    TrainingBatch,
)
from textedit.interfaces.composition import SlotBuilder, wire
from textedit.losses import PairedLossWeights, PairedRecipeConfig, paired_edit_loss, reconstruction_loss
from textedit.registry import (
    register_generator,
    register_model,
    register_preset,
    register_recipe,
)
from textedit.testing import run_model_conformance
from textedit.training import TrainConfig, Trainer


# ---------------------------------------------------------------- 1. a component
class FiLMGeneratorConfig(ComponentConfig):
    image_size: int = Field(32, gt=0, description="input and output size H (divisible by 4)")
    word_dim: int = Field(16, gt=0, description="width of the word features (wired from the text encoder)")
    sentence_dim: int = Field(16, gt=0, description="width of the sentence feature it reads")
    channels: int = Field(16, gt=0, description="feature channels at H/4")


@register_generator("film")
class FiLMGenerator(Generator):
    """``x̂ = clamp(x + tanh(decode(γ(s) ⊙ encode(x) + β(s))))``, one stage."""

    config_class = FiLMGeneratorConfig

    def __init__(self, config: FiLMGeneratorConfig | dict | None = None):
        super().__init__(config)
        c = self.config.channels
        self.encode = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 4, 2, 1), nn.LeakyReLU(0.2)
        )
        self.film = nn.Linear(self.config.sentence_dim, 2 * c)
        self.decode = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv2d(c, c, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2), nn.Conv2d(c, 3, 3, 1, 1),
        )

    @classmethod
    def example_config(cls) -> FiLMGeneratorConfig:
        return cls.config_class(image_size=16, word_dim=6, sentence_dim=6, channels=4)

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size,)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim

    def forward(self, image: Tensor, text: TextEncoding, memory=None, structure=None, localizer=None) -> GeneratorOutput:
        gamma, beta = self.film(text.sentence)[:, :, None, None].chunk(2, dim=1)
        features = self.encode(image) * (1 + gamma) + beta
        return GeneratorOutput(images=((image + torch.tanh(self.decode(features))).clamp(-1, 1),))


# -------------------------------------------------------------- 2. a composition
class FiLMEditorConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field("bilstm", description="encodes descriptions")
    generator: SlotSpec("generator") = Field("film", description="FiLM-modulated residual editor")
    image_size: int = Field(32, gt=0, description="input size H")


@register_model("film_editor")
class FiLMEditor(EditingModel):
    """A text encoder and a FiLM generator; no discriminator."""

    config_class = FiLMEditorConfig
    default_recipe = "film_l1"

    @classmethod
    def build_components(cls, config, given):
        build = SlotBuilder(config, given)  # keeps the components given, builds the others
        text = build("text_encoder")
        build("generator", wire(config.generator, image_size=config.image_size,
                                word_dim=text.word_dim, sentence_dim=text.sentence_dim))
        return build.built

    @classmethod
    def example_config(cls) -> FiLMEditorConfig:
        return FiLMEditorConfig(
            image_size=16,
            text_encoder={"type": "bilstm", "embedding_dim": 8, "hidden_dim": 4},
            generator={"type": "film", "channels": 4},
        )

    def generate(self, image: Tensor, tokens) -> GeneratorOutput:
        return self.generator(image, self.text_encoder(tokens))

    def edit_tensors(self, images: Tensor, tokens) -> EditOutput:
        return EditOutput(images=self.generate(images, tokens).images)


# ------------------------------------------------------------------- 3. a recipe
class FiLMLosses(PairedLossWeights):
    reconstruction: float = Field(1.0, ge=0, description="L1 between G(x, t) with x's own description and x")


class FiLMRecipeConfig(PairedRecipeConfig):
    losses: FiLMLosses = Field(default_factory=FiLMLosses, description="Loss weights.")


@register_recipe("film_l1")
class FiLMRecipe(Recipe):
    """Reconstruct from the own description; on generated data, edit towards the true edit."""

    config_class = FiLMRecipeConfig
    trains = (FiLMEditor,)
    progress = {"loss": "loss"}

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"generator": list(self.model.parameters())}

    def step(self, batch: TrainingBatch) -> dict[str, float]:
        m, w = self.model, self.config.losses
        with self.context.autocast():
            rec = reconstruction_loss(m.generate(batch.image, batch.tokens).images, [batch.image])
            loss, parts = w.reconstruction * rec, {}
            if w.paired():
                edit = m.generate(batch.image, batch.mismatched_tokens)
                paired, parts = paired_edit_loss(
                    w, edit.images, [batch.mismatched_target], [batch.image], [batch.mismatched_weight]
                )
                loss = loss + paired
        self.context.update("generator", loss)
        return {"loss": loss.item(), "rec_l1": rec.item(), **parts}


# ------------------------------------------------------------------- 4. a preset
register_preset(Preset(
    name="film_editor_32",
    composition="film_editor",
    config={"image_size": 32, "text_encoder": {"type": "bilstm", "embedding_dim": 32, "hidden_dim": 16},
            "generator": {"type": "film", "channels": 32}},
    description="FiLM editor, 32 px (the adding-a-model guide)",
))


def main() -> None:
    # the conformance kit: edit contract, determinism, one recipe iteration, save/load
    run_model_conformance("film_editor", workdir=Path("."))
    # the generic trainer trains it by its recipe; nothing in textedit knows this model
    config = TrainConfig.model_validate({
        "model": {"type": "film_editor_32"},
        "recipe": {"losses": {"true_edit": 1.0, "edit_region": 1.0}},
        "data": {"type": "synthetic", "family": "birds", "num_images": 16, "sample_split": None},
        "batch_size": 4, "steps": 3, "checkpoint_every": 3, "sample_every": 3, "num_samples": 2,
        "output_dir": tempfile.mkdtemp(prefix="textedit-film-"), "device": "cpu", "threads": 1,
    })  # a fresh folder each time: a folder that holds a run is refused (resume=True continues it)
    exported = Trainer(config, progress=False).train()
    model = textedit.load(exported)
    result = model.edit(torch.zeros(1, 3, 32, 32), "a bird with a red head", allow_unknown=True)
    print(f"trained {type(model).__name__} by recipe {config.recipe.type!r} for {config.steps} steps; "
          f"edit -> {tuple(result.fine.shape)}; saved to {exported}")


if __name__ == "__main__":
    main()
