"""``index.html``: the gallery of an output folder of ``textedit edit``, one table per run,
one row per image, one column per description (as TAGAN's test script lays out its
results).

Runs into the same folder add their table to the gallery: the tables are kept in
``gallery.json`` beside ``index.html`` (:func:`add_to_gallery`), and a run with the same
images and descriptions as an earlier one (``--overwrite``) replaces that one's table."""

from __future__ import annotations

import html
import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from textedit.errors import InputError
from textedit.utils.atomic import atomic_save

__all__ = [
    "GALLERY_STATE",
    "GalleryCell",
    "GalleryRow",
    "GallerySection",
    "add_to_gallery",
    "read_gallery",
    "write_gallery",
]

#: the gallery's tables, beside ``index.html``
GALLERY_STATE = "gallery.json"


@dataclass
class GalleryCell:
    """One edit: its image and explanation figure, relative to the gallery's folder; no
    image when a later run replaced the file (``--overwrite``)."""

    image: str | None
    explanation: str | None = None


@dataclass
class GalleryRow:
    """One input image and its edits, in the order of the descriptions."""

    name: str
    input: str
    cells: list[GalleryCell] = field(default_factory=list)


@dataclass
class GallerySection:
    """One run's table.

    Attributes:
        descriptions: the column headers.
        rows: one per input image.
        model: the model's name.
        notes: lines shown above the table (unknown words, cut descriptions).
        skipped: ``(file, reason)`` of the images that could not be edited.
    """

    descriptions: list[str]
    rows: list[GalleryRow]
    model: str = ""
    notes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def key(self) -> tuple:
        return (tuple(self.descriptions), tuple(r.name for r in self.rows))

    @classmethod
    def from_dict(cls, data: dict) -> "GallerySection":
        """The section ``asdict`` wrote; raises ``TypeError`` for fields of the wrong type."""
        rows = [
            GalleryRow(
                _text(r["name"]),
                _text(r["input"]),
                [GalleryCell(_text(c["image"], True), _text(c.get("explanation"), True)) for c in r["cells"]],
            )
            for r in data["rows"]
        ]
        skipped = [(_text(name), _text(reason)) for name, reason in data.get("skipped", [])]
        return cls(
            [_text(d) for d in data["descriptions"]],
            rows,
            _text(data.get("model", "")),
            [_text(n) for n in data.get("notes", [])],
            skipped,
        )


def _text(value: object, optional: bool = False) -> str | None:
    if isinstance(value, str) or (optional and value is None):
        return value
    raise TypeError(f"expected a string, found {value!r}")


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


def read_gallery(folder: str | Path) -> list[GallerySection] | None:
    """The tables of the gallery in ``folder``; None when it has no ``gallery.json``.

    Raises:
        InputError: ``gallery.json`` is not a gallery textedit wrote.
    """
    path = Path(folder) / GALLERY_STATE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [GallerySection.from_dict(d) for d in data["sections"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path} is not a textedit gallery ({exc}); move it away or choose another --out"
        ) from None


def _without(section: GallerySection, replaced: set[str]) -> GallerySection | None:
    """``section`` no longer showing the files in ``replaced`` (paths relative to the
    gallery): a row whose input was replaced goes (its edits were of another image), a
    replaced edit leaves an empty cell; None when no edit is left."""
    rows = []
    for row in section.rows:
        if row.input in replaced:
            continue
        cells = [
            GalleryCell(None) if cell.image in replaced or cell.explanation in replaced else cell
            for cell in row.cells
        ]
        rows.append(GalleryRow(row.name, row.input, cells))
    if all(cell.image is None for row in rows for cell in row.cells):
        return None  # nothing of it is left to show
    return GallerySection(section.descriptions, rows, section.model, section.notes, section.skipped)


def add_to_gallery(
    folder: str | Path, section: GallerySection, replaced: Collection[str] = ()
) -> Path:
    """Add ``section`` to the gallery in ``folder`` and write ``index.html`` and
    ``gallery.json`` atomically; returns the page.

    A table of the same images and descriptions is replaced; the other tables stop showing
    the files in ``replaced`` (paths relative to ``folder`` that this run wrote over), so
    no table shows another run's edit under its description."""
    folder = Path(folder)
    replaced = set(replaced)
    sections = []
    for old in read_gallery(folder) or []:
        kept = _without(old, replaced) if old.key() != section.key() else None
        if kept is not None:
            sections.append(kept)
    sections.append(section)
    state = json.dumps({"sections": [asdict(s) for s in sections]}, indent=1)
    atomic_save(folder / GALLERY_STATE, lambda tmp: tmp.write_text(state, encoding="utf-8"))
    return write_gallery(folder / "index.html", sections)


def _table(section: GallerySection) -> list[str]:
    e = html.escape
    model = section.model
    parts = [
        (
            f"<h2>{len(section.rows)} image(s) × {len(section.descriptions)} description(s)"
            f"{' with ' + e(model) if model else ''}</h2>"
        )
    ]
    parts += [f"<p class='note'>{e(n)}</p>" for n in section.notes]
    parts.append("<table><thead><tr><th>input</th>")
    parts += [f"<th>“{e(d)}”</th>" for d in section.descriptions]
    parts.append("</tr></thead><tbody>")
    for row in section.rows:
        parts.append(
            f"<tr><td><img src='{_url(row.input)}' alt='{e(row.name)}'>"
            f"<div class='small'>{e(row.name)}</div></td>"
        )
        for cell in row.cells:
            if cell.image is None:
                parts.append("<td class='small'>replaced by a later run</td>")
                continue
            image = f"<img src='{_url(cell.image)}' alt='edit of {e(row.name)}'>"
            if cell.explanation:
                image = f"<a href='{_url(cell.explanation)}'>{image}</a>"
            parts.append(f"<td>{image}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if section.skipped:
        parts.append(f"<h3>Skipped ({len(section.skipped)})</h3><ul>")
        parts += [f"<li><b>{e(name)}</b>: {e(reason)}</li>" for name, reason in section.skipped]
        parts.append("</ul>")
    return parts


def write_gallery(path: str | Path, sections: Sequence[GallerySection]) -> Path:
    """Write the gallery page of ``sections`` (newest last in the list, shown first) atomically.

    Args:
        path: the ``index.html`` to write; links are relative to its folder.
        sections: the tables, one per run.
    """
    models = list(dict.fromkeys(s.model for s in sections if s.model))
    title = f"textedit edits{' — ' + html.escape(', '.join(models)) if models else ''}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style></head><body>",
        (
            "<h1>textedit edits</h1><p class='small'>Click an edit for its explanation figure "
            "(input, boundary map, edit map, coarse, fine, attention of each word). Newest run "
            "first.</p>"
        ),
    ]
    for section in reversed(sections):
        parts += _table(section)
    parts.append("</body></html>\n")
    path = Path(path)
    text = "\n".join(parts)
    # atomic_save (not atomic_write_text, whose temporary file is private): the gallery
    # keeps the permissions of the user's umask, like the images beside it
    atomic_save(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
