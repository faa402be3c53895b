"""Putting an edit made at the model's resolution back onto the original image.

Shape legend: ``s`` the model resolution, ``S`` the side of the original's centre square.

The model sees the centre square of the original scaled to ``s x s`` (the size policy).
Two ways to return to the original size, both leaving every pixel outside that square
exactly as it was:

* ``"difference"`` (default): the change the model made, ``edited - input`` at ``s x s``,
  is scaled to ``S x S`` and added to the original square. The original's detail survives
  everywhere; an edit that changes nothing gives back the original exactly.
* ``"mask"``: the edited square, scaled to ``S x S``, is blended into the original with
  the model's localization map ``β`` (its edit map) as a soft mask: ``original + β (edited -
  original)``. Where ``β = 0`` the original is kept exactly; where ``β = 1`` the result is
  the (upscaled, softer) model output.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from textedit.errors import InputError

__all__ = ["COMPOSITE_MODES", "composite_onto_original"]

COMPOSITE_MODES = ("difference", "mask")


def _resize(t: Tensor, side: int, mode: str) -> Tensor:
    if t.shape[-1] == side:
        return t
    smaller = side < t.shape[-1]
    return F.interpolate(
        t[None].float(), size=(side, side), mode=mode, align_corners=False, antialias=smaller
    )[0]


def composite_onto_original(
    original: Image.Image,
    box: tuple[int, int, int],
    model_input: Tensor,
    edited: Tensor,
    localization: Tensor | None = None,
    mode: Literal["difference", "mask"] = "difference",
) -> Image.Image:
    """The edit at the original's size.

    Args:
        original: the RGB original.
        box: ``(left, top, S)``, the centre square the model saw (see
            :func:`textedit.editing.inputs.square_box`).
        model_input: ``(3, s, s)`` what the model saw, in ``[-1, 1]``.
        edited: ``(3, s, s)`` the model's output, in ``[-1, 1]``.
        localization: ``(1, h, w)`` weights in ``[0, 1]`` (needed by ``"mask"``).
        mode: ``"difference"`` or ``"mask"`` (see the module docstring).
    """
    if mode not in COMPOSITE_MODES:
        raise InputError(f"composite mode must be one of {COMPOSITE_MODES}, got {mode!r}")
    left, top, side = box
    pixels = np.asarray(original.convert("RGB"), dtype=np.float32).copy()
    square = torch.from_numpy(pixels[top : top + side, left : left + side]).permute(2, 0, 1)
    edited = edited.detach().float().cpu().clamp(-1, 1)
    if mode == "difference":
        change = (edited - model_input.detach().float().cpu()) * 127.5
        out = square + _resize(change, side, "bicubic")
    else:
        if localization is None:
            raise InputError(
                "composite mode 'mask' needs a localization map and this model gives none; "
                "use mode 'difference'"
            )
        weights = _resize(localization.detach().float().cpu(), side, "bilinear").clamp(0, 1)
        upscaled = (_resize(edited, side, "bicubic") + 1) * 127.5
        out = square + weights * (upscaled - square)
    pixels[top : top + side, left : left + side] = out.permute(1, 2, 0).numpy()
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")
