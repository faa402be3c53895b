"""Runs of ``textedit edit``: every image x every description, written to a folder.

Layout of the output folder::

    <image>__<description>.png           the edit (model resolution, or the original size
                                         with keep_size)
    <image>__<description>.explain.png   its explanation figure (with explain)
    inputs/<image>.png                   each input as the model saw it
    index.html, gallery.json             the gallery: one table per run into the folder

Guarantees: everything is checked before anything is written (the model, that the folder
can be written, every description, every output name against existing files, and with
``strict`` every image), so a refused run writes nothing; each file is written
atomically; existing edits are only replaced with ``overwrite``. Runs share a folder: the
gallery gains a table per run, and an input already saved under the same name is kept when
its pixels are the same (a second run on the same image with other descriptions). Without
``strict`` an image that cannot be read is skipped with a warning and counted in the
summary and the gallery.
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from textedit.data.images import fit_square, load_image, pil_to_tensor, tensor_to_pil
from textedit.editing.composite import composite_onto_original
from textedit.editing.explain import explanation_figure
from textedit.editing.gallery import GalleryCell, GalleryRow, GallerySection, add_to_gallery, read_gallery
from textedit.editing.inputs import smaller_than_model, square_box
from textedit.editing.result import save_image
from textedit.editing.text import check_descriptions
from textedit.errors import InputError
from textedit.text.vocabulary import split_words
from textedit.utils.atomic import existing_ancestor

__all__ = [
    "check_writable",
    "IMAGE_SUFFIXES",
    "RunSummary",
    "find_images",
    "read_descriptions",
    "output_names",
    "run_edits",
]

#: file name endings taken as images in a folder (others are ignored, and said so)
IMAGE_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
    ".pbm",
)


@dataclass
class RunSummary:
    """What a run did."""

    out: Path
    written: list[Path] = field(default_factory=list)
    edited: list[Path] = field(default_factory=list)
    explanations: list[Path] = field(default_factory=list)
    edits: int = 0
    images: int = 0
    descriptions: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gallery: Path | None = None


def find_images(path: str | Path) -> tuple[list[Path], list[Path]]:
    """``([path], [])`` for a file; for a folder, its image files (by suffix, sorted) and the
    other files it ignores. Hidden files are left out."""
    path = Path(path)
    if path.is_file():
        return [path], []
    if not path.is_dir():
        raise InputError(f"image {path} does not exist; check the path")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise InputError(
            f"the folder {path} holds no image files ({', '.join(IMAGE_SUFFIXES[:4])}, ...); "
            f"point --image at an image or a folder of images"
        )
    return images, [p for p in files if p not in images]


def read_descriptions(path: str | Path) -> list[str]:
    """The descriptions of a text file: one per line; blank lines and ``#`` comments skipped."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"descriptions file {path} is a folder; give a text file of descriptions, one per line")
    if not path.is_file():
        raise InputError(f"descriptions file {path} does not exist; check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"descriptions file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            f"save it as UTF-8"
        ) from None
    lines = [line.strip() for line in text.splitlines()]
    descriptions = [line for line in lines if line and not line.startswith("#")]
    if not descriptions:
        raise InputError(f"descriptions file {path} has no description: write one per line")
    return descriptions


#: UTF-8 bytes of an image's name kept in output names, so that ``<image>__<description>
#: .explain.png`` stays well under the 255-byte name limit of common file systems
_STEM_BYTES = 100


def _slug(text: str, limit: int = 48) -> str:
    """A file-name part for a description: its words joined by dashes, in ASCII. When that
    loses something (cut at ``limit``, case, punctuation, accents, other scripts), a short
    hash of the description follows, so two different descriptions never share a name
    (across runs into one folder as well as within one)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = split_words(ascii_text)
    slug = "-".join(words)[:limit].strip("-") or "description"
    if slug.replace("-", " ") != text:
        slug += "-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
    return slug


def _cut(stem: str, limit: int = _STEM_BYTES) -> str:
    return stem.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeats numbered (``x``, ``x-2``, ...), never taking a name that is
    in the list already."""
    taken: set[str] = set()
    out = []
    for name in names:
        unique, k = name, 1
        while unique in taken:
            k += 1
            unique = f"{name}-{k}"
        taken.add(unique)
        out.append(unique)
    return out


def output_names(images: Sequence[Path], texts: Sequence[str]) -> tuple[list[str], list[str]]:
    """File-name stems: one per image (unique; long names cut), one per description (unique)."""
    stems = [p.stem for p in images]
    stems = [s if stems.count(s) == 1 else p.name.replace(".", "_") for s, p in zip(stems, images)]
    return _unique([_cut(s) for s in stems]), _unique([_slug(t) for t in texts])


def _planned(out: Path, stems: list[str], slugs: list[str], explain: bool) -> list[Path]:
    """The edits (and explanation figures) a run writes; its inputs and the gallery are
    shared with other runs into the folder (see the module doc)."""
    files = []
    for stem in stems:
        for slug in slugs:
            files.append(out / f"{stem}__{slug}.png")
            if explain:
                files.append(out / f"{stem}__{slug}.explain.png")
    return files


def check_writable(out: str | Path) -> Path:
    """``out`` as a folder this process can write into, created by the run; nothing is left
    behind by the check.

    Raises:
        InputError: ``out`` (or the folder it would be created in) is a file, or a folder
            that cannot be written (read-only, no permission, no such device).
    """
    if not str(out).strip():
        raise InputError("--out is empty; name the folder to write into (--out . for this one)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; choose a folder")
    probe = existing_ancestor(out)
    if not probe.is_dir():
        raise InputError(f"--out {out} cannot be created: {probe} is a file; choose another folder")
    try:
        with tempfile.TemporaryDirectory(dir=probe, prefix=".textedit-write-check-"):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        where = "" if probe == out else f" (in {probe})"
        raise InputError(
            f"cannot write to --out {out}{where}: {why}; choose a folder you can write to"
        ) from None
    return out


def _same_input(path: Path, tensor: torch.Tensor) -> bool:
    """True when ``path`` does not exist or holds exactly the pixels ``tensor`` saves as."""
    if not path.exists():
        return True
    try:
        saved = load_image(path)
    except InputError:
        return False
    picture = tensor_to_pil(tensor)
    return saved.size == picture.size and saved.tobytes() == picture.tobytes()


def run_edits(
    model: Any,
    images: Sequence[Path],
    texts: Sequence[str],
    out: str | Path,
    *,
    explain: bool = False,
    keep_size: bool = False,
    composite: str = "difference",
    batch_size: int = 8,
    strict: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    model_name: str = "",
    ignored: Sequence[Path] = (),
    warn: Callable[[str], None] = lambda message: warnings.warn(message, stacklevel=2),
) -> RunSummary:
    """Edit every image with every description and write the results (see the module
    docstring). ``model`` is any composition whose ``edit`` returns an
    :class:`~textedit.editing.EditResult`.

    Raises:
        InputError: a bad description, outputs that exist without ``overwrite``, a bad
            image with ``strict``, or no readable image at all.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    summary = RunSummary(out=out, ignored=[p.name for p in ignored])
    # 1. descriptions: refused before anything is read or written
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infos, _ = check_descriptions(model.text_encoder, texts)
    summary.notes = list(dict.fromkeys(str(w.message) for w in caught))
    texts = [i.text for i in infos]
    # 2. outputs: never replaced without overwrite
    stems, slugs = output_names(images, texts)
    check_writable(out)
    existing = [p for p in _planned(out, stems, slugs, explain) if p.exists()]
    gallery = read_gallery(out)  # a damaged gallery.json refuses the run here, not at the end
    if (out / "index.html").exists() and gallery is None:
        existing.append(out / "index.html")  # a page textedit did not write
    if existing and not overwrite:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise InputError(
            f"{len(existing)} output file(s) exist already ({shown}); pass --overwrite to "
            f"replace them, or choose another --out"
        )
    # 3. images: bad ones skipped (or, with strict, the run refused before writing)
    size = model.image_size
    loaded: list[tuple[int, torch.Tensor]] = []
    for i, path in enumerate(images):
        try:
            original = load_image(path)
            loaded.append((i, pil_to_tensor(fit_square(original, size))))
        except InputError as exc:
            if strict:
                raise InputError(f"{exc} (--strict: nothing was written)") from None
            summary.skipped.append((str(path), str(exc)))
            warn(f"skipped {exc}")
            continue
        note = smaller_than_model(f"image {path}", original, size)
        if note:
            summary.notes.append(note)
    if not loaded:
        raise InputError(
            f"none of the {len(images)} image(s) could be read (see the warnings above); "
            f"nothing was written"
        )
    clashes = [
        str(out / "inputs" / f"{stems[i]}.png")
        for i, tensor in loaded
        if not _same_input(out / "inputs" / f"{stems[i]}.png", tensor)
    ]
    if clashes and not overwrite:
        raise InputError(
            f"{len(clashes)} other input image(s) are saved under the same name already "
            f"({', '.join(clashes[:3])}{' ...' if len(clashes) > 3 else ''}); pass --overwrite "
            f"to replace them, or choose another --out"
        )
    summary.images, summary.descriptions = len(loaded), len(texts)
    # 4. edit, batch by batch
    pairs = [(i, j) for i, _ in loaded for j in range(len(texts))]
    tensors = dict(loaded)
    cells: dict[tuple[int, int], GalleryCell] = {}
    originals: dict[int, Any] = {}  # keep_size: the original of the current image only
    bar = tqdm(total=len(pairs), unit="edit", disable=not progress, dynamic_ncols=True)
    try:
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            batch = torch.stack([tensors[i] for i, _ in chunk])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # reported once above
                result = model.edit(batch, [texts[j] for _, j in chunk])
            for k, (i, j) in enumerate(chunk):
                base = f"{stems[i]}__{slugs[j]}"
                target = out / f"{base}.png"
                if keep_size:
                    if i not in originals:
                        originals.clear()
                        originals[i] = load_image(images[i])
                    original = originals[i]
                    loc = result.localization[k] if result.localization is not None else None
                    picture = composite_onto_original(
                        original,
                        square_box(*original.size),
                        result.inputs[k],
                        result.fine[k],
                        loc,
                        composite,
                    )
                else:
                    picture = tensor_to_pil(result.fine[k])
                save_image(picture, target)
                summary.written.append(target)
                summary.edited.append(target)
                cell = GalleryCell(target.name)
                if explain:
                    figure_path = out / f"{base}.explain.png"
                    details = result.explanation(k)
                    details.source = images[i].name
                    save_image(explanation_figure(details), figure_path)
                    summary.written.append(figure_path)
                    summary.explanations.append(figure_path)
                    cell.explanation = figure_path.name
                cells[(i, j)] = cell
                summary.edits += 1
            bar.update(len(chunk))
    finally:
        bar.close()
    # 5. inputs and the gallery
    rows = []
    for i, tensor in loaded:
        input_path = out / "inputs" / f"{stems[i]}.png"
        save_image(tensor_to_pil(tensor), input_path)
        summary.written.append(input_path)
        rows.append(
            GalleryRow(
                images[i].name,
                f"inputs/{input_path.name}",
                [cells[(i, j)] for j in range(len(texts))],
            )
        )
    # files of earlier runs this one wrote over (with overwrite): their tables stop showing them
    written = set(summary.written)
    replaced = {p.relative_to(out).as_posix() for p in existing if p in written} | {
        Path(p).relative_to(out).as_posix() for p in clashes
    }
    summary.gallery = add_to_gallery(
        out,
        GallerySection(list(texts), rows, model_name, list(summary.notes), list(summary.skipped)),
        replaced=replaced,
    )
    summary.written.append(summary.gallery)
    return summary
