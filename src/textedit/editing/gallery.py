"""``index.html``: the gallery of a ``textedit edit`` run, one row per image, one column per
description (as TAGAN's test script lays out its results)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from textedit.utils.atomic import atomic_save

__all__ = ["GalleryCell", "GalleryRow", "write_gallery"]


@dataclass
class GalleryCell:
    """One edit: its image and explanation figure, relative to the gallery's folder."""

    image: str
    explanation: str | None = None


@dataclass
class GalleryRow:
    """One input image and its edits, in the order of the descriptions."""

    name: str
    input: str
    cells: list[GalleryCell] = field(default_factory=list)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ddd; padding: 6px; vertical-align: top; text-align: center; }
th { font-weight: 600; max-width: 14rem; font-size: 0.9rem; }
img { image-rendering: pixelated; width: 128px; height: auto; display: block; margin: auto; }
.note { color: #a33; font-size: 0.85rem; }
.small { font-size: 0.8rem; color: #555; }
"""


def _url(path: str) -> str:
    return quote(path, safe="/")


def write_gallery(
    path: str | Path,
    descriptions: Sequence[str],
    rows: Sequence[GalleryRow],
    model: str = "",
    notes: Sequence[str] = (),
    skipped: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write the gallery atomically.

    Args:
        path: the ``index.html`` to write; links are relative to its folder.
        descriptions: the column headers.
        rows: one per input image.
        model: the model's name, shown in the title.
        notes: lines shown above the table (unknown words, cut descriptions).
        skipped: ``(file, reason)`` of the images that could not be edited.
    """
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>textedit edits{' — ' + e(model) if model else ''}</title>",
        f"<style>{_STYLE}</style></head><body>",
        (
            f"<h1>textedit edits</h1><p class='small'>{len(rows)} image(s) × {len(descriptions)} "
            f"description(s){' with ' + e(model) if model else ''}. Click an edit for its "
            f"explanation figure (input, boundary map, TLU map, coarse, fine, attention of each "
            f"word).</p>"
        ),
    ]
    parts += [f"<p class='note'>{e(n)}</p>" for n in notes]
    parts.append("<table><thead><tr><th>input</th>")
    parts += [f"<th>“{e(d)}”</th>" for d in descriptions]
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append(
            f"<tr><td><img src='{_url(row.input)}' alt='{e(row.name)}'>"
            f"<div class='small'>{e(row.name)}</div></td>"
        )
        for cell in row.cells:
            image = f"<img src='{_url(cell.image)}' alt='edit of {e(row.name)}'>"
            if cell.explanation:
                image = f"<a href='{_url(cell.explanation)}'>{image}</a>"
            parts.append(f"<td>{image}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if skipped:
        parts.append(f"<h2>Skipped ({len(skipped)})</h2><ul>")
        parts += [f"<li><b>{e(name)}</b>: {e(reason)}</li>" for name, reason in skipped]
        parts.append("</ul>")
    parts.append("</body></html>\n")
    path = Path(path)
    text = "\n".join(parts)
    # atomic_save (not atomic_write_text, whose temporary file is private): the gallery
    # keeps the permissions of the user's umask, like the images beside it
    atomic_save(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
