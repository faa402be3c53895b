"""Pictures of what a model did: heat maps, labelled grids (training samples, explanations).

Shape legend: ``b`` batch, ``H``/``W`` image size. Images are float tensors in ``[-1, 1]``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

__all__ = ["to_pil", "heatmap", "labelled_grid"]

# A perceptually ordered colour map (viridis, sampled at 9 points) so that weight maps read
# the same in colour and in grey.
_VIRIDIS = np.array(
    [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
     [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], dtype=np.float32,
)


def to_pil(image: Tensor) -> Image.Image:
    """A ``(3, H, W)`` image in ``[-1, 1]`` as an RGB PIL image."""
    array = ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte()
    return Image.fromarray(array.permute(1, 2, 0).numpy(), "RGB")


def heatmap(weights: Tensor, size: int | tuple[int, int]) -> Image.Image:
    """A ``(h, w)`` or ``(1, h, w)`` map with values in ``[0, 1]`` as a viridis image of ``size``."""
    size = (size, size) if isinstance(size, int) else size
    w = weights.detach().float().cpu().reshape(1, 1, *weights.shape[-2:])
    w = F.interpolate(w, size=size, mode="bilinear", align_corners=False)[0, 0].clamp(0, 1).numpy()
    position = w * (len(_VIRIDIS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_VIRIDIS) - 2)
    frac = (position - low)[..., None]
    rgb = _VIRIDIS[low] * (1 - frac) + _VIRIDIS[low + 1] * frac
    return Image.fromarray(rgb.round().astype(np.uint8), "RGB")


def labelled_grid(
    rows: Sequence[Sequence[Image.Image]],
    column_titles: Sequence[str] = (),
    row_captions: Sequence[str] = (),
    cell: int = 128,
    caption_width: int = 44,
) -> Image.Image:
    """A white sheet with one row of equally sized cells per example.

    Args:
        rows: per row, the images of its cells (resized to ``cell`` pixels).
        column_titles: a title above each column.
        row_captions: text drawn under each row (wrapped), e.g. the description.
        cell: cell side in pixels.
        caption_width: characters per caption line.
    """
    font = ImageFont.load_default()
    columns = max(len(r) for r in rows)
    pad, line = 4, 12
    title_h = line + pad if column_titles else 0
    wrapped = [textwrap.wrap(c, caption_width)[:3] for c in row_captions] + [[]] * (len(rows) - len(row_captions))
    cap_h = [len(w) * line + (pad if w else 0) for w in wrapped]
    width = columns * (cell + pad) + pad
    height = title_h + sum(cell + pad + h for h in cap_h) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(column_titles):
        draw.text((pad + c * (cell + pad), pad // 2), title, fill="black", font=font)
    y = title_h + pad
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            sheet.paste(image.resize((cell, cell), Image.NEAREST if image.width < cell else Image.BILINEAR),
                        (pad + c * (cell + pad), y))
        y += cell + pad
        for k, text in enumerate(wrapped[r]):
            draw.text((pad, y + k * line), text, fill="black", font=font)
        y += cap_h[r]
    return sheet
