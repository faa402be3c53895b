"""The explanation figure of one edit: what the model saw, where it edited, which word where.

Shape legend: ``s`` model resolution, ``t`` tokens, ``h``/``w`` map sizes.

Top row: the input as the model saw it, the boundary map (structure kept from the input),
the localization weights (the model's edit map: 1 = take the edit, 0 = keep the input),
the coarse image (first stage) and the fine image (the result). Below: for each word, how
much the refining stage attended to it at each position, drawn over the input in grey.
The word maps share one colour scale, stretched to the largest weight of the figure (the
weights at one position sum to 1 over the words, so with many words all of them are
small); the figure prints that largest weight. Panels a model does not produce are left
out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from textedit.visualize import heatmap, to_pil

__all__ = ["Explanation", "explanation_figure", "overlay"]

_CELL = 128
_WORD_CELL = 96
_WORDS_PER_ROW = 6
_PAD = 6


@dataclass
class Explanation:
    """The tensors of one edit, unbatched (see :mod:`textedit.editing.result`)."""

    text: str
    input: Tensor  # (3, s, s)
    fine: Tensor  # (3, s, s)
    coarse: Tensor | None = None  # (3, s', s')
    boundary: Tensor | None = None  # (1, s, s)
    localization: Tensor | None = None  # (1, h, w)
    word_attention: Tensor | None = None  # (t, h', w')
    words: Sequence[str] = ()
    unknown_words: Sequence[str] = ()
    truncated: bool = False
    source: str = ""


def _font(size: int) -> ImageFont.ImageFont:
    # DejaVu Sans (on most Linux systems) draws most scripts; Pillow's own font is the fallback
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, font, fill="black") -> None:
    try:
        draw.text(xy, text, fill=fill, font=font)
    except UnicodeEncodeError:  # a bitmap font: latin-1 only
        draw.text(xy, text.encode("latin-1", "replace").decode("latin-1"), fill=fill, font=font)


def overlay(image: Tensor, weights: Tensor, size: int, alpha: float = 0.6) -> Image.Image:
    """``weights`` ``(h, w)`` in ``[0, 1]``, viridis, over ``image`` ``(3, s, s)`` in grey."""
    grey = to_pil(image).convert("L").convert("RGB").resize((size, size), Image.BILINEAR)
    return Image.blend(grey, heatmap(weights, size), alpha)


def _colour_bar(width: int, height: int = 10) -> Image.Image:
    import torch

    ramp = torch.linspace(0, 1, width).expand(height, width)
    return heatmap(ramp, (height, width))


def _panel(image: Image.Image, size: int) -> Image.Image:
    resample = Image.NEAREST if image.width * 2 <= size else Image.BILINEAR
    return image if image.size == (size, size) else image.resize((size, size), resample)


def explanation_figure(e: Explanation) -> Image.Image:
    """The figure of one edit as an RGB image (see the module docstring)."""
    title_font, font, small = _font(14), _font(12), _font(10)
    top: list[tuple[str, Image.Image]] = [(f"input ({e.input.shape[-1]} px)", to_pil(e.input))]
    if e.boundary is not None:
        top.append(("boundary map", heatmap(e.boundary, _CELL)))
    if e.localization is not None:
        top.append(("edit map (where)", heatmap(e.localization, _CELL)))
    if e.coarse is not None:
        top.append((f"coarse ({e.coarse.shape[-1]} px)", to_pil(e.coarse)))
    top.append((f"fine: result ({e.fine.shape[-1]} px)", to_pil(e.fine)))

    words = list(e.words)
    attention = e.word_attention
    if attention is not None:
        attention = attention[: len(words)].float()
        if not words:
            words = [f"#{k + 1}" for k in range(attention.shape[0])]
    n_word_rows = 0 if attention is None else -(-len(words) // _WORDS_PER_ROW)

    caption = textwrap.wrap(f"“{e.text}”", 90)[:4]
    notes = []
    if e.unknown_words:
        notes.append(f"unknown to the model (marked ?): {', '.join(e.unknown_words)}")
    if e.truncated:
        notes.append(f"cut to the first {len(words)} tokens the model reads")
    line, title_h = 15, 18
    width = max(len(top) * (_CELL + _PAD), _WORDS_PER_ROW * (_WORD_CELL + _PAD)) + _PAD
    header_h = _PAD + line * (len(caption) + len(notes) + (1 if e.source else 0))
    top_h = title_h + _CELL + _PAD + 14
    words_h = 0 if attention is None else title_h + n_word_rows * (title_h + _WORD_CELL + _PAD) + 16
    sheet = Image.new("RGB", (width, header_h + top_h + words_h + _PAD), "white")
    draw = ImageDraw.Draw(sheet)

    y = _PAD
    for text in caption:
        _text(draw, (_PAD, y), text, title_font)
        y += line
    for text in notes:
        _text(draw, (_PAD, y), text, font, fill=(150, 40, 0))
        y += line
    if e.source:
        _text(draw, (_PAD, y), e.source, small, fill=(90, 90, 90))
        y += line

    y += 2
    for k, (title, image) in enumerate(top):
        x = _PAD + k * (_CELL + _PAD)
        _text(draw, (x, y), title, font)
        sheet.paste(_panel(image, _CELL), (x, y + title_h))
    y += title_h + _CELL + 2
    if e.boundary is not None or e.localization is not None:  # the scale of the map panels
        bar = _colour_bar(_CELL - 40)
        sheet.paste(bar, (_PAD + 14, y + 2))
        _text(draw, (_PAD, y), "0", small)
        _text(draw, (_PAD + _CELL - 22, y), "1", small)
    y += 12 + _PAD

    if attention is not None:
        peak = float(attention.max()) if attention.numel() else 0.0
        scale = peak if peak > 0 else 1.0
        _text(
            draw,
            (_PAD, y),
            f"attention of each word (colour 1 = {peak:.2f}, the largest weight)",
            font,
        )
        y += title_h
        unknown = set(e.unknown_words)
        for k, word in enumerate(words):
            row, col = divmod(k, _WORDS_PER_ROW)
            x = _PAD + col * (_WORD_CELL + _PAD)
            yy = y + row * (title_h + _WORD_CELL + _PAD)
            label = f"{word}?" if word in unknown else word
            _text(draw, (x, yy), label if len(label) <= 14 else label[:13] + "…", font)
            maps = (attention[k] / scale).clamp(0, 1)
            sheet.paste(overlay(e.input, maps, _WORD_CELL), (x, yy + title_h))
    return sheet
