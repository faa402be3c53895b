"""Writing a generated data set to disk in the generic folder layout, plus its extras.

Layout of ``OUT`` (everything in the generic layout of :mod:`textedit.data.folder`, so any
loader reads it like real data)::

    dataset.json       manifest: family, image_size, seed, counts, generator version, spec
    captions.jsonl     {"id", "image", "captions", "split"} per image
    images/<id>.png    the images
    masks/<id>.png     label maps: 0 background, k = k-th part (dataset.json "parts"), 255 other
    scenes.jsonl       {"id", "scene"}: each image's scene, so any edit can be re-drawn
    edits.jsonl        test-split edit pairs: {"id", "image_id", "image", "description",
                       "target", "labels", "target_labels", "edit_mask", "requested",
                       "changed_parts", "family", "split"}
    edits/<id>.png, edits/<id>_labels.png, edits/<id>_mask.png

The folder is built under a temporary name beside ``OUT`` and renamed into place at the end
(:func:`~textedit.utils.atomic.atomic_directory`): an interrupted run leaves no data set that
loads (a killed one's temporary folder is removed by the next run), and an existing ``OUT``
is replaced only with ``overwrite=True`` and only when it is empty or was itself written by
this generator.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from textedit._version import __version__
from textedit.data.folder import MANIFEST, read_manifest
from textedit.data.synthetic.data import SyntheticSpec, _requested_text, edit_mask, true_edit
from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.render import Rendering, render
from textedit.data.synthetic.scene import Scene
from textedit.errors import InputError
from textedit.utils.atomic import atomic_directory
from textedit.utils.sizes import format_bytes

__all__ = [
    "generate_dataset",
    "check_output",
    "FolderFiles",
    "writing_folder",
    "write_image",
    "write_edit_pair",
    "folder_manifest",
    "GENERATOR",
    "GENERATOR_VERSION",
]

GENERATOR = "textedit.data.synthetic"
#: bumped whenever the same spec would draw different pixels or write a different layout
GENERATOR_VERSION = 1


def check_output(out: str | os.PathLike[str], overwrite: bool) -> None:
    """Raise :class:`InputError` unless ``out`` may be written (see the module doc)."""
    out = Path(out)
    if not out.exists():
        return
    if not overwrite:
        raise InputError(f"{out} already exists; pass --overwrite (overwrite=True) to replace it")
    if not out.is_dir():
        raise InputError(f"{out} exists and is not a folder; choose another output path")
    manifest = read_manifest(out) if (out / MANIFEST).is_file() else None
    if any(out.iterdir()) and (manifest is None or manifest.get("generator") != GENERATOR):
        raise InputError(
            f"refusing to replace {out}: it is not empty and was not written by 'textedit data "
            f"generate'; choose an empty or new output folder"
        )


@dataclass
class FolderFiles:
    """A data-set folder being written: its temporary root and open line files. Set
    ``manifest`` before the :func:`writing_folder` block ends."""

    root: Path
    captions: IO[str]
    scenes: IO[str]
    edits: IO[str]
    manifest: dict[str, Any] | None = None


@contextlib.contextmanager
def writing_folder(out: str | os.PathLike[str], overwrite: bool) -> Iterator[FolderFiles]:
    """Write a data-set folder atomically: checks ``out`` (:func:`check_output`), yields its
    :class:`FolderFiles`, then writes the manifest last (a folder without it is not a
    finished data set) and moves the folder into place."""
    out = Path(out)
    check_output(out, overwrite)
    with atomic_directory(out, overwrite=True) as tmp:
        for sub in ("images", "masks", "edits"):
            (tmp / sub).mkdir()
        with open(tmp / "captions.jsonl", "w", encoding="utf-8") as captions, open(
            tmp / "scenes.jsonl", "w", encoding="utf-8"
        ) as scenes, open(tmp / "edits.jsonl", "w", encoding="utf-8") as edits:
            files = FolderFiles(tmp, captions, scenes, edits)
            yield files
        if files.manifest is None:
            raise RuntimeError("writing_folder: the block ended without setting the manifest")
        (tmp / MANIFEST).write_text(json.dumps(files.manifest, indent=2) + "\n", encoding="utf-8")


def _save_png(array: np.ndarray, path: Path) -> None:
    Image.fromarray(array).save(path, format="PNG", compress_level=1)


def generate_dataset(
    out: str | os.PathLike[str],
    spec: SyntheticSpec,
    image_size: int = 128,
    overwrite: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Write the data set ``spec`` at ``image_size`` into ``out``; returns the manifest.

    Args:
        progress: called with the number of images just finished (e.g. ``tqdm.update``).

    Raises:
        InputError: ``out`` exists and ``overwrite`` is False, or it holds something else.
    """
    counts = {"train": 0, "test": 0, "edits": 0}
    with writing_folder(out, overwrite) as files:
        for i in range(spec.n):
            if i == _ESTIMATE_AFTER:
                _check_free_space(files.root, out, i, spec.n)
            split = spec.split(i)
            scene, drawn = write_image(files.root, spec, i, image_size, files.captions, files.scenes)
            counts[split] += 1
            if split == "test":
                for k in range(spec.edits_per_image):
                    counts["edits"] += 1
                    line = _write_edit(files.root, spec, i, k, scene, drawn, image_size)
                    files.edits.write(json.dumps(line) + "\n")
            if progress is not None:
                progress(1)
        files.manifest = manifest = folder_manifest(spec, image_size, counts)
    return manifest


#: images drawn before the size of the whole set is estimated from theirs
_ESTIMATE_AFTER = 64


def _check_free_space(root: Path, out: str | os.PathLike[str], done: int, n: int) -> None:
    """Refuse to go on when the ``n - done`` images still to draw would not fit on the disk,
    by the size of the ``done`` drawn into ``root`` so far (with a 10% margin): the run
    stops now with the sizes, instead of on a full disk hours later."""
    written = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    need = written / done * (n - done) * 1.1
    free = shutil.disk_usage(root).free
    if need > free:
        raise InputError(
            f"{n} images at this size need about {format_bytes(written / done * n)} "
            f"({format_bytes(written / done)} each, by the first {done}), and {format_bytes(free)} "
            f"is free where {out} goes; free some space, choose another --out, or draw fewer (--n)"
        )


def folder_manifest(
    spec: SyntheticSpec, image_size: int, counts: Mapping[str, int]
) -> dict[str, Any]:
    """The ``dataset.json`` of a folder holding images of ``spec`` drawn at ``image_size``."""
    return {
        "format": "textedit-folder",
        "format_version": 1,
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "textedit_version": __version__,
        "family": spec.family,
        "parts": list(get_family(spec.family).part_names),
        "image_size": image_size,
        "seed": spec.seed,
        "counts": dict(counts),
        "spec": spec.to_dict(),
    }


def write_image(
    tmp: Path, spec: SyntheticSpec, i: int, size: int, captions: IO[str], scenes: IO[str]
) -> tuple[Scene, Rendering]:
    """Draw image ``i`` of ``spec`` into the folder ``tmp``: its image and label map PNGs,
    its line of ``captions.jsonl`` and of ``scenes.jsonl`` (the open files given).

    Returns:
        the scene and its drawing, for the image's edit pairs.
    """
    image_id, split = spec.image_id(i), spec.split(i)
    scene = spec.scene(i)
    drawn = render(scene, size)
    _save_png(drawn.image, tmp / "images" / f"{image_id}.png")
    _save_png(drawn.labels, tmp / "masks" / f"{image_id}.png")
    line = {
        "id": image_id,
        "image": f"images/{image_id}.png",
        "captions": spec.captions(i, scene),
        "split": split,
    }
    captions.write(json.dumps(line) + "\n")
    scenes.write(json.dumps({"id": image_id, "scene": scene.to_dict()}) + "\n")
    return scene, drawn


def _write_edit(tmp: Path, spec: SyntheticSpec, i: int, k: int, scene, drawn, size: int) -> dict[str, Any]:
    image_id = spec.image_id(i)
    description = spec.edit_description(i, k, scene)
    return write_edit_pair(
        tmp, f"{image_id}_e{k}", image_id, spec.split(i), scene, drawn, size, description
    )


def write_edit_pair(
    tmp: Path,
    edit_id: str,
    image_id: str,
    split: str,
    scene: Scene,
    drawn: Rendering,
    size: int,
    description: str,
    requested: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, Any]:
    """Draw the true edit of image ``image_id`` (``scene``, drawn as ``drawn``) by
    ``description`` into ``tmp/edits``; returns its line of ``edits.jsonl``.

    Args:
        requested: what the description means, when known (hand-written descriptions); by
            default what the grammar's parser reads from it (:func:`.data.true_edit`).
    """
    edit = true_edit(scene, description, requested)
    after = render(edit.scene, size)
    mask = edit_mask(drawn, after, edit.changed_parts)
    _save_png(after.image, tmp / "edits" / f"{edit_id}.png")
    _save_png(after.labels, tmp / "edits" / f"{edit_id}_labels.png")
    _save_png(np.rint(mask * 255.0).astype(np.uint8), tmp / "edits" / f"{edit_id}_mask.png")
    return {
        "id": edit_id,
        "image_id": image_id,
        "family": scene.family,
        "split": split,
        "image": f"images/{image_id}.png",
        "labels": f"masks/{image_id}.png",
        "description": description,
        "target": f"edits/{edit_id}.png",
        "target_labels": f"edits/{edit_id}_labels.png",
        "edit_mask": f"edits/{edit_id}_mask.png",
        "requested": _requested_text(edit.requested),
        "changed_parts": ";".join(edit.changed_parts),
        "target_scene": edit.scene.to_dict(),
    }
