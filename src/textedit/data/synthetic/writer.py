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
loads, and an existing ``OUT`` is replaced only with ``overwrite=True`` and only when it is
empty or was itself written by this generator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from textedit._version import __version__
from textedit.data.folder import MANIFEST, read_manifest
from textedit.data.synthetic.data import SyntheticSpec, _requested_text, edit_mask
from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.grammar import edit_scene
from textedit.data.synthetic.render import render
from textedit.errors import InputError
from textedit.utils.atomic import atomic_directory

__all__ = ["generate_dataset", "check_output", "GENERATOR", "GENERATOR_VERSION"]

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
    out = Path(out)
    check_output(out, overwrite)
    fam = get_family(spec.family)
    counts = {"train": 0, "test": 0, "edits": 0}
    with atomic_directory(out, overwrite=True) as tmp:
        for sub in ("images", "masks", "edits"):
            (tmp / sub).mkdir()
        with open(tmp / "captions.jsonl", "w", encoding="utf-8") as captions, open(
            tmp / "scenes.jsonl", "w", encoding="utf-8"
        ) as scenes, open(tmp / "edits.jsonl", "w", encoding="utf-8") as edits:
            for i in range(spec.n):
                image_id, split = spec.image_id(i), spec.split(i)
                scene = spec.scene(i)
                drawn = render(scene, image_size)
                _save_png(drawn.image, tmp / "images" / f"{image_id}.png")
                _save_png(drawn.labels, tmp / "masks" / f"{image_id}.png")
                line = {"id": image_id, "image": f"images/{image_id}.png", "captions": spec.captions(i, scene), "split": split}
                captions.write(json.dumps(line) + "\n")
                scenes.write(json.dumps({"id": image_id, "scene": scene.to_dict()}) + "\n")
                counts[split] += 1
                if split == "test":
                    for k in range(spec.edits_per_image):
                        counts["edits"] += 1
                        edits.write(json.dumps(_write_edit(tmp, spec, i, k, scene, drawn, image_size)) + "\n")
                if progress is not None:
                    progress(1)
        manifest = {
            "format": "textedit-folder",
            "format_version": 1,
            "generator": GENERATOR,
            "generator_version": GENERATOR_VERSION,
            "textedit_version": __version__,
            "family": spec.family,
            "parts": list(fam.part_names),
            "image_size": image_size,
            "seed": spec.seed,
            "counts": counts,
            "spec": spec.to_dict(),
        }
        # written last: a folder without it is not a finished data set
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _write_edit(tmp: Path, spec: SyntheticSpec, i: int, k: int, scene, drawn, size: int) -> dict[str, Any]:
    image_id = spec.image_id(i)
    edit_id = f"{image_id}_e{k}"
    description = spec.edit_description(i, k, scene)
    edit = edit_scene(scene, description)
    after = render(edit.scene, size)
    mask = edit_mask(drawn, after, edit.changed_parts)
    _save_png(after.image, tmp / "edits" / f"{edit_id}.png")
    _save_png(after.labels, tmp / "edits" / f"{edit_id}_labels.png")
    _save_png(np.rint(mask * 255.0).astype(np.uint8), tmp / "edits" / f"{edit_id}_mask.png")
    return {
        "id": edit_id,
        "image_id": image_id,
        "family": spec.family,
        "split": spec.split(i),
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


