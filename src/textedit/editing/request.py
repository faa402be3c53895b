"""Turning ``model.edit(image, text)``'s arguments into model inputs, for any composition.

A composition can offer ``edit`` through this module when it has ``image_size`` and a
``text_encoder`` slot with ``tokenize`` (every text encoder has); it then runs its own
pipeline on :attr:`EditRequest.images` and :attr:`EditRequest.tokens` and wraps the output
with :meth:`textedit.editing.EditResult.from_output`. See :class:`textedit.interfaces.EditingModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textedit.editing.inputs import ImageInput, PreparedImages, prepare_images
from textedit.editing.text import DescriptionInfo, check_descriptions, description_list
from textedit.errors import InputError

__all__ = ["EditRequest", "prepare_edit"]


@dataclass
class EditRequest:
    """Checked inputs of one batched edit.

    Attributes:
        images: the ``b`` prepared images (``images.tensor`` is ``(b, 3, s, s)``).
        infos: per edit, what the model reads of its description.
        tokens: the ``TokenBatch`` of the ``b`` descriptions (on the CPU).
    """

    images: PreparedImages
    infos: list[DescriptionInfo]
    tokens: Any


def prepare_edit(
    model: Any,
    image: ImageInput,
    texts: Sequence[str] | str,
    allow_unknown: bool = False,
    warn: bool = True,
) -> EditRequest:
    """Check and prepare the images and descriptions of ``model.edit``.

    One description is used for every image, one image for every description; otherwise
    there must be as many descriptions as images.

    Raises:
        InputError: a bad image or description, or counts that do not pair up.
    """
    owner = f"{type(model).__name__}.edit"
    texts = description_list(texts)
    images = prepare_images(image, model.image_size, owner=owner)
    if not texts:
        raise InputError("no description given; pass at least one, e.g. 'a bird with a red head'")
    if len(texts) == 1 and len(images) > 1:
        texts = texts * len(images)
    elif len(images) == 1 and len(texts) > 1:
        images = images.repeat(len(texts))
    elif len(texts) != len(images):
        raise InputError(
            f"got {len(images)} images and {len(texts)} descriptions; pass one description per "
            f"image, or one for all"
        )
    infos, tokens = check_descriptions(model.text_encoder, texts, allow_unknown, warn)
    return EditRequest(images, infos, tokens)
