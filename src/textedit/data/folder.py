"""The generic layout: a folder of images with their captions, for your own data.

One of three ways to give the captions, looked for in this order under the root folder:

1. ``captions.jsonl``: one JSON object per line,
   ``{"image": "images/0001.png", "captions": ["...", "..."], "split": "train"}``
   (``"caption": "..."`` for a single one; ``split`` defaults to ``"train"``; an optional
   ``"id"``; several lines for one image add up).
2. ``captions.csv``: a header row with ``image`` and ``caption`` columns (optionally
   ``split`` and ``id``), one row per caption.
3. Side-car text files: ``photo.jpg`` with ``photo.txt`` beside it, one caption per line,
   anywhere below the root. An image's split is the first folder of its path when that is
   ``train``, ``val`` or ``test`` (``train/birds/a.jpg``), else ``train``.

Image paths are relative to the root (absolute paths are allowed). An optional
``dataset.json`` beside them is read as the data set's manifest (:attr:`FolderDataset.manifest`);
the data sets written by ``textedit data generate`` have one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

from textedit.data.base import CaptionDataset, CaptionRecord, DataWarning
from textedit.errors import InputError

__all__ = ["FolderDataset", "read_folder", "read_manifest", "IMAGE_EXTENSIONS", "MANIFEST"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
MANIFEST = "dataset.json"
_SPLIT_FOLDERS = ("train", "val", "test")


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``dataset.json`` of ``root``, or None when there is none."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); fix or delete it") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    return data


def read_folder(root: str | os.PathLike[str]) -> list[CaptionRecord]:
    """The records of a folder in the generic layout (every split).

    Raises:
        InputError: no captions found, or a malformed captions file (the message names the
            file and line).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give the folder that holds the data set")
    if (root / "captions.jsonl").is_file():
        rows = _read_jsonl(root / "captions.jsonl")
    elif (root / "captions.csv").is_file():
        rows = _read_csv(root / "captions.csv")
    else:
        rows = _read_sidecars(root)
    if not rows:
        raise InputError(
            f"found no captioned images in {root}; add captions.jsonl, captions.csv or a .txt "
            f"file beside each image (see the data documentation)"
        )
    merged: dict[str, dict[str, Any]] = {}
    for image, captions, split, image_id in rows:
        key = image_id or str(Path(image).with_suffix("")).replace(os.sep, "/")
        entry = merged.setdefault(key, {"image": image, "captions": [], "split": split})
        if entry["image"] != image:
            why = "the same \"id\"" if image_id else "one name (file names are compared without their extension)"
            raise InputError(
                f"{root}: {entry['image']} and {image} are both image {key!r}: {why}; rename one, "
                f"or give each its own \"id\""
            )
        if entry["split"] != split:  # its captions would reach another split's images
            raise InputError(
                f"{root}: image {key!r} is listed in split {entry['split']!r} and in split {split!r}; "
                f"an image belongs to one split (its test captions would otherwise be trained on)"
            )
        entry["captions"].extend(c.strip() for c in captions if c and c.strip())
    records, empty = [], []
    for key, entry in merged.items():
        if not entry["captions"]:
            empty.append(key)
            continue
        path = Path(entry["image"])
        records.append(
            CaptionRecord(
                image_id=key,
                captions=tuple(entry["captions"]),
                split=entry["split"],
                path=path if path.is_absolute() else root / path,
            )
        )
    if empty:
        warnings.warn(
            f"{root}: skipped {len(empty)} images without any caption (e.g. {empty[0]!r})",
            DataWarning,
            stacklevel=2,
        )
    return records


def read_utf8(path: Path) -> str:
    """A caption file's text: UTF-8, with or without a byte-order mark (Excel writes one)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc}); save it as UTF-8") from None


def _read_jsonl(path: Path) -> list[tuple[str, list[str], str, str | None]]:
    rows = []
    for n, line in enumerate(io.StringIO(read_utf8(path)), 1):  # lines end at "\n" only (not U+2028)
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{n} is not valid JSON ({exc})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("image"), str):
            raise InputError(f'{path}:{n} needs an object with an "image" path')
        caps = obj.get("captions", [obj["caption"]] if "caption" in obj else None)
        if isinstance(caps, str):
            caps = [caps]
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise InputError(f'{path}:{n} needs "captions" (a list of strings) or "caption"')
        image_id = obj.get("id")
        if image_id is not None and not isinstance(image_id, (str, int)):
            raise InputError(f'{path}:{n}: "id" must be a string or a number, got {image_id!r}')
        split = obj.get("split")
        rows.append((obj["image"], caps, "train" if split is None else str(split), None if image_id is None else str(image_id)))
    return rows


def _read_csv(path: Path) -> list[tuple[str, list[str], str, str | None]]:
    rows = []
    reader = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
    fields = set(reader.fieldnames or ())
    if not {"image", "caption"} <= fields:
        raise InputError(
            f"{path} needs a header row with 'image' and 'caption' columns; found "
            f"{sorted(fields)}"
        )
    for row in reader:
        if not (row["image"] or "").strip():
            raise InputError(f"{path}:{reader.line_num}: the 'image' column is empty")
        rows.append((row["image"], [row["caption"] or ""], row.get("split") or "train", row.get("id") or None))
    return rows


def _read_sidecars(root: Path) -> list[tuple[str, list[str], str, str | None]]:
    rows, bare = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            image = Path(dirpath, name)
            text = image.with_suffix(".txt")
            if not text.is_file():
                bare += 1
                continue
            rel = image.relative_to(root)
            split = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in _SPLIT_FOLDERS else "train"
            lines = read_utf8(text).splitlines()
            rows.append((rel.as_posix(), lines, split, None))
    if bare and rows:
        warnings.warn(
            f"{root}: {bare} images have no .txt captions beside them and were left out",
            DataWarning,
            stacklevel=3,
        )
    return rows


class FolderDataset(CaptionDataset):
    """A data set in the generic layout (see the module doc); ``kwargs`` go to
    :class:`~textedit.data.base.CaptionDataset`."""

    def __init__(self, root: str | os.PathLike[str], split: str = "train", image_size: int = 256, **kwargs: Any):
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        kwargs.setdefault("name", str(self.root))
        super().__init__(read_folder(self.root), split, image_size, **kwargs)
