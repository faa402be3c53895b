"""Reading images robustly, the size policy, and conversions between PIL and tensors.

Shape legend: ``b`` batch, ``h``/``w`` height and width, ``s`` the model resolution.

* :func:`load_image` opens any file PIL can read and returns an RGB image, or raises
  :class:`~textedit.errors.InputError` naming the file and saying what to do: missing,
  empty, not an image, truncated or corrupt, or too large (a header that claims more than
  ``max_pixels``, checked before any pixel is decoded, so a decompression bomb costs nothing).
* Modes: grayscale, 1-bit, palette, CMYK, YCbCr, LAB, HSV are converted to RGB; anything with
  transparency (RGBA, LA, PA, palette with a transparent colour) is composited on white;
  16-bit images (and 32-bit ones holding 16-bit values) are scaled from 0-65535 to 8 bits;
  float images are read as values in [0, 1]. EXIF orientation is applied to files, and to
  PIL images straight from ``Image.open`` (:func:`pil_to_rgb`).
* Size policy (:func:`fit_square`): scale so that the shorter side is ``s`` and cut the
  centre ``s x s`` square (bicubic, antialiased). An image already ``s x s`` is unchanged.
* Tensors are float32 in [-1, 1], ``(3, h, w)`` or ``(b, 3, h, w)``.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from textedit.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "MAX_PIXELS",
    "load_image",
    "pil_to_rgb",
    "to_rgb",
    "fit_square",
    "crop_box",
    "pil_to_tensor",
    "tensor_to_pil",
    "images_to_tensor",
]

#: largest image accepted by default (width x height), 128 megapixels; PIL itself refuses
#: more than twice ``Image.MAX_IMAGE_PIXELS`` (about 179 megapixels) whatever this says
MAX_PIXELS = 128_000_000


def load_image(path: str | os.PathLike[str], max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Read ``path`` as an RGB image.

    Raises:
        InputError: the file is missing, empty, not an image, truncated or corrupt, or has
            more than ``max_pixels`` pixels. The message names the file and what to do.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise InputError(f"image {path} {what}; check the path (and the data set's layout)")
    if path.stat().st_size == 0:
        raise InputError(f"image {path} is empty (0 bytes); re-copy or re-download it")
    try:
        with warnings.catch_warnings():
            # the size check below replaces PIL's bomb warning with an actionable error
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise InputError(
                        f"image {path} is {w}x{h} ({w * h / 1e6:.0f} megapixels), more than "
                        f"the limit of {max_pixels / 1e6:.0f} megapixels; downscale it first"
                    )
                return _decoded(img)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(
            f"{path} is not an image PIL can read; convert it to PNG or JPEG, or remove it"
        ) from None
    except Image.DecompressionBombError as exc:
        # PIL refuses before it tells the size; its message has the pixel count
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)) / 1e6:.0f} megapixels, " if found else ""
        raise InputError(
            f"image {path} has {count}more than the limit of "
            f"{min(max_pixels, 2 * Image.MAX_IMAGE_PIXELS) / 1e6:.0f} megapixels; downscale it first"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"image {path} is truncated or corrupt ({exc}); re-copy or re-download it"
        ) from None


def _decoded(img: Image.Image) -> Image.Image:
    """``img`` decoded and converted to RGB; turned as its EXIF orientation says when it
    comes straight from a file (``Image.open``: ``img.format`` is set). An image made by
    PIL operations (``transpose``, ``convert``, ...) is taken as it is: it may carry the
    file's EXIF while its pixels were turned already."""
    img.load()
    return to_rgb(ImageOps.exif_transpose(img) if img.format else img)


def pil_to_rgb(img: Image.Image, name: str = "the PIL image") -> Image.Image:
    """An image the caller opened with PIL, read as :func:`load_image` reads a file: decoded,
    turned as its EXIF orientation says (when it comes straight from ``Image.open``),
    converted to RGB.

    Raises:
        InputError: the image has no pixels, is closed, or its file is truncated or corrupt.
    """
    if img.width == 0 or img.height == 0:
        raise InputError(f"{name} is {img.width}x{img.height}: it has no pixels")
    try:
        return _decoded(img)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"{name} cannot be decoded ({exc}): its file is truncated or corrupt, or the "
            f"image was closed; open it again, or pass the path instead"
        ) from None


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB, following the module's mode policy."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        # float32 and in place: a 40-megapixel 16-bit image (a 77 KB PNG when flat) takes
        # 160 MB here, where float64 with temporaries took over a gigabyte
        arr = np.array(img, dtype=np.float32)
        if arr.ndim == 3:  # e.g. 16-bit RGB read as a stack
            arr = arr[..., :3]
        if mode == "F":
            np.clip(arr, 0.0, 1.0, out=arr)
            arr *= 255.0
        else:  # 16-bit (or 32-bit holding 16-bit values, as some PNG readers give)
            top = max(65535.0, float(arr.max(initial=0.0)))
            np.clip(arr, 0.0, None, out=arr)
            arr *= 255.0 / top
        np.rint(arr, out=arr)
        np.clip(arr, 0, 255, out=arr)
        return Image.fromarray(arr.astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def crop_box(img: Image.Image, box: tuple[float, float, float, float] | None) -> Image.Image:
    """``img`` cropped to ``box = (left, top, right, bottom)`` (pixels), clamped to the image."""
    if box is None:
        return img
    w, h = img.size
    left, top, right, bottom = box
    left, top = max(0, int(left)), max(0, int(top))
    right, bottom = min(w, int(right)), min(h, int(bottom))
    if right <= left or bottom <= top:
        return img
    return img.crop((left, top, right, bottom))


def fit_square(img: Image.Image, size: int) -> Image.Image:
    """The size policy: shorter side scaled to ``size``, centre ``size x size`` square kept."""
    w, h = img.size
    if (w, h) == (size, size):
        return img
    side = min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    return img.resize((size, size), Image.BICUBIC, box=(left, top, left + side, top + side))


def pil_to_tensor(img: Image.Image) -> "torch.Tensor":
    """An RGB image as a ``(3, h, w)`` float32 tensor in [-1, 1]."""
    return array_to_tensor(np.asarray(to_rgb(img), dtype=np.uint8))


def array_to_tensor(pixels: np.ndarray, flip: bool = False) -> "torch.Tensor":
    """``(h, w, 3)`` uint8 RGB pixels as a ``(3, h, w)`` float32 tensor in [-1, 1], mirrored
    left to right with ``flip`` (the pixels are copied: read-only and memory-mapped arrays
    are fine)."""
    import torch

    arr = np.array(pixels[:, ::-1] if flip else pixels, dtype=np.uint8)
    t = torch.from_numpy(arr).permute(2, 0, 1).float()
    return t.div_(127.5).sub_(1.0)


def images_to_tensor(images: list[Image.Image], size: int | None = None) -> "torch.Tensor":
    """A ``(b, 3, s, s)`` batch, each image put through :func:`fit_square` when ``size`` is set."""
    import torch

    if size is not None:
        images = [fit_square(to_rgb(im), size) for im in images]
    return torch.stack([pil_to_tensor(im) for im in images])


def tensor_to_pil(tensor: "torch.Tensor") -> Image.Image | list[Image.Image]:
    """``(3, h, w)`` in [-1, 1] -> one RGB image; ``(b, 3, h, w)`` -> a list (values clamped)."""
    import torch

    t = tensor.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        return [tensor_to_pil(x) for x in t]  # type: ignore[misc]
    if t.dim() != 3 or t.shape[0] != 3:
        raise InputError(f"expected a (3, h, w) or (b, 3, h, w) tensor, got shape {tuple(t.shape)}")
    arr = ((t.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(arr, "RGB")
