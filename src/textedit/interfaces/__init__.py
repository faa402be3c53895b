"""The seven component contracts, the composition base, the model contracts (editing and
text-to-image) and the recipe contract.

Each kind is an abstract ``torch.nn.Module`` with a documented contract (inputs, output
dataclass, shapes, value ranges); implementations live under ``textedit.components`` or in
plug-in packages.
"""

from textedit.interfaces.component import Component
from textedit.interfaces.composition import Composition, Preset
from textedit.interfaces.discriminator import Discriminator, DiscriminatorOutput, log1mexp
from textedit.interfaces.generator import Generator, GeneratorOutput
from textedit.interfaces.image_encoder import ImageEncoder, ImageEncoding
from textedit.interfaces.localizer import Localization, Localizer, fuse
from textedit.interfaces.memory_bank import MemoryBank, MemoryRead, masked_mean
from textedit.interfaces.model import EditingModel, EditOutput, GeneratingModel, TextModel
from textedit.interfaces.recipe import Recipe, RecipeConfig, TrainingBatch, TrainingContext
from textedit.interfaces.structure_extractor import Structure, StructureExtractor
from textedit.interfaces.text_encoder import TextEncoder, TextEncoding, TokenBatch

__all__ = [
    "Component",
    "Composition",
    "Preset",
    "EditingModel",
    "EditOutput",
    "GeneratingModel",
    "TextModel",
    "Recipe",
    "RecipeConfig",
    "TrainingBatch",
    "TrainingContext",
    "TextEncoder",
    "TextEncoding",
    "TokenBatch",
    "MemoryBank",
    "MemoryRead",
    "masked_mean",
    "Localizer",
    "Localization",
    "fuse",
    "StructureExtractor",
    "Structure",
    "Generator",
    "GeneratorOutput",
    "Discriminator",
    "DiscriminatorOutput",
    "log1mexp",
    "ImageEncoder",
    "ImageEncoding",
]
