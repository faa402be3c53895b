"""Editing images with a trained model: inputs, results, explanations, galleries, the demo.

* :func:`prepare_edit` checks and prepares what ``model.edit(image, text)`` receives (paths,
  PIL images or tensors; descriptions) for any composition with ``image_size`` and a text
  encoder; :class:`EditResult` is what it returns.
* :mod:`~textedit.editing.inputs` holds the size policy, :mod:`~textedit.editing.composite`
  the return to the original size, :mod:`~textedit.editing.explain` the explanation figure,
  :mod:`~textedit.editing.gallery` the ``index.html`` of a run, :mod:`~textedit.editing.batch`
  the images x descriptions runs of ``textedit edit``, and :mod:`~textedit.editing.server`
  the local web demo of ``textedit serve``.
"""

from textedit.editing.composite import COMPOSITE_MODES, composite_onto_original
from textedit.editing.explain import Explanation, explanation_figure
from textedit.editing.inputs import PreparedImages, prepare_images, square_box
from textedit.editing.request import EditRequest, prepare_edit
from textedit.editing.result import EditOutput, EditResult, GenerationResult
from textedit.editing.text import (
    MAX_DESCRIPTION_CHARS,
    DescriptionInfo,
    EditWarning,
    check_descriptions,
)

__all__ = [
    "EditOutput",
    "EditResult",
    "GenerationResult",
    "EditRequest",
    "prepare_edit",
    "PreparedImages",
    "prepare_images",
    "square_box",
    "Explanation",
    "explanation_figure",
    "COMPOSITE_MODES",
    "composite_onto_original",
    "DescriptionInfo",
    "EditWarning",
    "check_descriptions",
    "MAX_DESCRIPTION_CHARS",
]
