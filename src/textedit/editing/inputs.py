"""Images for an edit: paths, PIL images or tensors, brought to the model's resolution.

Shape legend: ``b`` batch, ``s`` the model resolution (``image_size``).

The size policy (:func:`textedit.data.images.fit_square`): the shorter side is scaled to
``s`` and the centre ``s x s`` square is kept, so an image of any size and aspect can be
edited; :class:`PreparedImages` remembers the original and the square it came from, so
the edit can be composited back at the original size (:mod:`textedit.editing.composite`).

* A path is read with :func:`textedit.data.images.load_image`: grayscale, palette, RGBA
  (composited on white), CMYK and 16-bit files are converted to RGB; a missing, empty,
  non-image, truncated or huge file raises :class:`~textedit.errors.InputError` naming it.
* A PIL image of any mode is converted the same way (EXIF orientation included).
* A tensor must already be the model's input: ``(b, 3, s, s)``, floating point, values in
  ``[-1, 1]`` (no size policy is applied to tensors; there is no original to go back to).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor

from textedit.data.images import MAX_PIXELS, fit_square, load_image, pil_to_rgb, pil_to_tensor
from textedit.errors import InputError
from textedit.utils.caller import warn_caller

__all__ = ["ImageInput", "PreparedImages", "prepare_images", "square_box", "check_tensor"]

#: what :func:`prepare_images` accepts: one path / PIL image, a list of them, or a tensor
ImageInput = str | os.PathLike | Image.Image | Tensor | Sequence[str | os.PathLike | Image.Image]


@dataclass
class PreparedImages:
    """Model-ready images and where they came from.

    Attributes:
        tensor: ``(b, 3, s, s)`` float32 in ``[-1, 1]``.
        sources: a name per image (the path, ``"<PIL image>"`` or ``"<tensor>"``).
        originals: the RGB original of each image (None for tensors).
        boxes: per image, the centre square ``(left, top, side)`` of the original that the
            model sees (None for tensors).
    """

    tensor: Tensor
    sources: list[str]
    originals: list[Image.Image | None] = field(default_factory=list)
    boxes: list[tuple[int, int, int] | None] = field(default_factory=list)

    def __len__(self) -> int:
        return self.tensor.shape[0]

    def repeat(self, times: int) -> PreparedImages:
        """One image repeated ``times`` times (one image, several descriptions)."""
        return PreparedImages(
            self.tensor.expand(times, -1, -1, -1).contiguous(),
            self.sources * times,
            self.originals * times,
            self.boxes * times,
        )


def square_box(width: int, height: int) -> tuple[int, int, int]:
    """The centre square ``(left, top, side)`` that :func:`fit_square` keeps, in whole pixels."""
    side = min(width, height)
    return (width - side) // 2, (height - side) // 2, side


def check_tensor(image: Any, size: int, owner: str = "edit") -> Tensor:
    """``image`` as float32 if it is a ``(b, 3, size, size)`` floating-point tensor in
    ``[-1, 1]`` with ``b >= 1`` (float64, float16 and bfloat16 are converted), else InputError."""
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[1:] != (3, size, size):
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise InputError(
            f"{owner} takes a (b, 3, {size}, {size}) tensor in [-1, 1], a path or a PIL image, "
            f"got {shape}; pass the path or PIL image to have it resized (the size policy), or "
            f"resize the tensor to {size}×{size} (e.g. torch.nn.functional.interpolate)"
        )
    if image.shape[0] == 0:
        raise InputError(f"{owner} got an empty batch {tuple(image.shape)}; pass at least one image")
    if not image.is_floating_point():
        raise InputError(
            f"images must be floating point in [-1, 1], got {image.dtype}; "
            f"convert uint8 pixels with image.float() / 127.5 - 1"
        )
    finite = torch.isfinite(image)
    if not bool(finite.all()):
        bad = image[~finite]
        kinds = " and ".join(
            k for k, f in (("NaN", torch.isnan), ("infinite", torch.isinf)) if bool(f(bad).any())
        )
        raise InputError(
            f"the image tensor holds {bad.numel()} {kinds} value(s); images must be finite "
            f"numbers in [-1, 1] (check what produced it, e.g. a division by zero)"
        )
    low, high = image.min().item(), image.max().item()
    if low < -1.01 or high > 1.01:
        raise InputError(
            f"images must lie in [-1, 1], found values in [{low:.3g}, {high:.3g}]; "
            f"map [0, 1] pixels with 2 * x - 1, [0, 255] with x / 127.5 - 1"
        )
    return image.float()


def smaller_than_model(name: str, image: Image.Image, size: int) -> str | None:
    """A note when ``image``'s shorter side is below the model's ``size`` (it is scaled up,
    so the edit can be no finer than the image), or None."""
    w, h = image.size
    if min(w, h) >= size:
        return None
    return (
        f"{name} is {w} x {h} pixels, smaller than the {size} x {size} the model edits: it is "
        f"scaled up, so the edit is no finer than the image"
    )


def _one(
    item: Any, size: int, max_pixels: int
) -> tuple[Tensor, str, Image.Image, tuple[int, int, int]]:
    if isinstance(item, Image.Image):
        name = f"the PIL image of {item.filename}" if getattr(item, "filename", "") else "the PIL image"
        original, source = pil_to_rgb(item, name), "<PIL image>"
    elif isinstance(item, (str, os.PathLike)):
        original, source = load_image(item, max_pixels=max_pixels), str(Path(item))
        name = f"image {source}"
    else:
        raise InputError(
            f"cannot edit a {type(item).__name__}: pass a path, a PIL image, a list of them, "
            f"or a (b, 3, s, s) tensor in [-1, 1]"
        )
    note = smaller_than_model(name, original, size)
    if note:
        warn_caller(note, UserWarning)
    return pil_to_tensor(fit_square(original, size)), source, original, square_box(*original.size)


def prepare_images(
    image: ImageInput, size: int, max_pixels: int = MAX_PIXELS, owner: str = "edit"
) -> PreparedImages:
    """Bring ``image`` (see the module docstring) to ``(b, 3, size, size)`` in ``[-1, 1]``.

    Raises:
        InputError: an unreadable or invalid image (the message names it and what to do),
            or a tensor of the wrong shape, type or range.
    """
    if isinstance(image, Tensor):
        tensor = check_tensor(image, size, owner)
        b = tensor.shape[0]
        return PreparedImages(tensor, ["<tensor>"] * b, [None] * b, [None] * b)
    items = list(image) if isinstance(image, (list, tuple)) else [image]
    if not items:
        raise InputError("no image given; pass a path, a PIL image or a list of them")
    prepared = [_one(item, size, max_pixels) for item in items]
    return PreparedImages(
        torch.stack([p[0] for p in prepared]),
        [p[1] for p in prepared],
        [p[2] for p in prepared],
        [p[3] for p in prepared],
    )
