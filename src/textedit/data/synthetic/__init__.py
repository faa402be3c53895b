"""Generated data sets with ground truth: scenes, a renderer, descriptions and true edits.

Quick tour::

    import numpy as np
    from textedit.data.synthetic import sample_scene, render, describe, edit_scene

    scene = sample_scene("birds", np.random.default_rng(0))
    picture = render(scene, 128)                    # .image, .part_masks, .labels
    text = describe(scene, np.random.default_rng(1)).text
    edit = edit_scene(scene, "this bird has a red head and a long tail")
    truth = render(edit.scene, 128)                 # the true edited image

See ``docs/data.md`` for the families, the grammar and the on-disk layout.
"""

from textedit.data.synthetic.data import (
    FolderEditPairs,
    SyntheticCaptionDataset,
    SyntheticEditPairs,
    SyntheticSpec,
    edit_mask,
    load_scenes,
    make_edit_pair,
)
from textedit.data.synthetic.families import FAMILIES, Family, Part, get_family, register_family
from textedit.data.synthetic.grammar import Description, Edit, describe, describe_many, edit_scene, parse
from textedit.data.synthetic.palette import COLOUR_NAMES, PALETTE
from textedit.data.synthetic.render import SIZES, Rendering, render
from textedit.data.synthetic.scene import Scene, sample_scene
from textedit.data.synthetic.writer import GENERATOR_VERSION, generate_dataset

__all__ = [
    "COLOUR_NAMES",
    "PALETTE",
    "FAMILIES",
    "Family",
    "Part",
    "get_family",
    "register_family",
    "Scene",
    "sample_scene",
    "Rendering",
    "render",
    "SIZES",
    "Description",
    "Edit",
    "describe",
    "describe_many",
    "parse",
    "edit_scene",
    "SyntheticSpec",
    "SyntheticCaptionDataset",
    "SyntheticEditPairs",
    "FolderEditPairs",
    "make_edit_pair",
    "edit_mask",
    "load_scenes",
    "generate_dataset",
    "GENERATOR_VERSION",
    "family_names",
]


def family_names() -> list[str]:
    """Names of the registered families."""
    get_family("birds")  # loads the built-ins
    return sorted(FAMILIES)
