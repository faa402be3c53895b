"""Converters from published caption formats to the generic folder layout.

Each writes ``captions.jsonl`` and ``dataset.json`` into an output folder (atomically, file by
file; images are not copied: the captions point at them with relative paths), after which
:class:`~textedit.data.folder.FolderDataset` reads the data set. Nothing else in the output
folder is touched, so it can be the image folder itself.

* :func:`convert_celeba`: CelebA with Text2FaceGAN's captions, ``caps.txt`` lines
  ``<image>\\t<sentence>|<sentence>|...`` (one line per image, the sentences describe
  different facets of the face), split by CelebA's ``list_eval_partition.txt``
  (``<image> <0|1|2>`` for train, val, test).
* :func:`convert_deepfashion`: DeepFashion with FashionGAN's sentences,
  ``language_original.mat`` (``engJ``: one sentence per image; ``nameList``: the image paths,
  ``img/...`` relative to the folder of DeepFashion's Category and Attribute Prediction
  Benchmark) and ``ind.mat`` (``train_ind``,
  ``test_ind``: 1-based indices). Needs ``scipy``.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from textedit.data.base import DataWarning
from textedit.data.folder import read_utf8
from textedit.errors import InputError, MissingDependencyError
from textedit.utils.atomic import atomic_write_text

__all__ = ["convert_celeba", "convert_deepfashion"]

_CELEBA_SPLITS = {"0": "train", "1": "val", "2": "test"}


def _check_overwrite(out: Path, overwrite: bool) -> None:
    if (out / "captions.jsonl").exists() and not overwrite:
        raise InputError(f"{out / 'captions.jsonl'} already exists; pass --overwrite to replace it")


def _read_mat(loadmat: Any, path: Path) -> dict[str, Any]:
    """A MATLAB file's variables, or an :class:`InputError` naming a file scipy cannot read."""
    try:
        return loadmat(str(path))
    except Exception as exc:  # scipy's MatReadError, ValueError, ...: a truncated or other file
        raise InputError(f"{path} is not a MATLAB .mat file scipy can read ({exc}); re-download it") from None


def _check_image_folder(folder: Path, what: str) -> None:
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; give {what} with --images")


def _check_images(images: list[Path], folder: Path, captions: Path) -> None:
    """Refuse captions none of whose images is in ``folder``; warn of some missing (the data
    set skips them when it opens, with the same count)."""
    missing = [p for p in images if not p.is_file()]
    if not missing:
        return
    if len(missing) == len(images):
        raise InputError(
            f"none of the {len(images)} images {captions.name} names is in {folder} (first: {missing[0]}); "
            f"is --images the right folder?"
        )
    warnings.warn(
        f"{len(missing)} of the {len(images)} images {captions.name} names are missing from {folder} "
        f"(first: {missing[0]}); the data set skips them",
        DataWarning,
        stacklevel=3,
    )


def _image_ref(image: Path, out: Path) -> str:
    try:
        return Path(os.path.relpath(image.resolve(), out.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(image.resolve())


def _write(out: Path, rows: list[dict[str, Any]], source: str) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["split"]] = counts.get(row["split"], 0) + 1
    atomic_write_text(out / "captions.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    manifest = {"format": "textedit-folder", "format_version": 1, "source": source, "counts": counts}
    atomic_write_text(out / "dataset.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def convert_celeba(
    captions_file: str | os.PathLike[str],
    image_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    partition_file: str | os.PathLike[str] | None = None,
    sentences: str = "join",
    overwrite: bool = False,
) -> dict[str, Any]:
    """CelebA + Text2FaceGAN captions -> generic layout; returns the manifest.

    Args:
        captions_file: Text2FaceGAN's ``caps.txt``.
        image_dir: the folder of CelebA images (``img_align_celeba``).
        partition_file: ``list_eval_partition.txt``; without it every image is ``train``.
        sentences: ``"join"`` makes one caption of all of an image's sentences (the full
            description); ``"each"`` makes every sentence a caption of its own.
    """
    if sentences not in ("join", "each"):
        raise InputError(f"sentences must be 'join' or 'each', got {sentences!r}")
    captions_file, image_dir, out = Path(captions_file), Path(image_dir), Path(out)
    if not captions_file.is_file():
        raise InputError(f"{captions_file} does not exist; give Text2FaceGAN's caps.txt")
    _check_image_folder(image_dir, "CelebA's image folder (img_align_celeba)")
    _check_overwrite(out, overwrite)
    splits: dict[str, str] = {}
    if partition_file is not None:
        for n, line in enumerate(read_utf8(Path(partition_file)).splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in _CELEBA_SPLITS:
                raise InputError(f"{partition_file}:{n}: expected '<image> <0|1|2>', got {line!r}")
            splits[parts[0]] = _CELEBA_SPLITS[parts[1]]
    rows, images, names = [], [], []
    for n, line in enumerate(read_utf8(captions_file).splitlines(), 1):
        if not line.strip():
            continue
        name, sep, text = line.partition("\t")
        if not sep:
            raise InputError(f"{captions_file}:{n}: expected '<image>\\t<sentence>|...', got {line[:60]!r}")
        parts = [s.strip() for s in text.split("|") if s.strip()]
        if not parts:
            continue  # Text2FaceGAN writes no sentence for faces without described attributes
        captions = [" ".join(parts)] if sentences == "join" else parts
        names.append(name.strip())
        images.append(image_dir / names[-1])
        rows.append(
            {
                "id": Path(name).stem,
                "image": _image_ref(images[-1], out),
                "captions": captions,
                "split": splits.get(names[-1], "train"),
            }
        )
    if not rows:
        raise InputError(f"{captions_file} holds no captions")
    if partition_file is not None:
        unlisted = [r["id"] for r, name in zip(rows, names) if name not in splits]
        if len(unlisted) == len(rows):
            raise InputError(
                f"none of the {len(rows)} images {captions_file.name} names is in {partition_file} "
                f"(first: {names[0]}; the partition file lists {next(iter(splits), 'nothing')}); "
                f"is it CelebA's list_eval_partition.txt for these images?"
            )
        if unlisted:
            warnings.warn(
                f"{len(unlisted)} of the {len(rows)} images {captions_file.name} names are not in "
                f"{Path(partition_file).name} (first: {unlisted[0]}); they are put in 'train'",
                DataWarning,
                stacklevel=2,
            )
    _check_images(images, image_dir, captions_file)
    return _write(out, rows, "CelebA with Text2FaceGAN captions")


def _strings(cell: Any) -> list[str]:
    """The strings of a MATLAB cell array as scipy reads it (nested object arrays)."""
    import numpy as np

    out = []
    for item in np.asarray(cell, dtype=object).reshape(-1):
        while isinstance(item, np.ndarray):
            item = item.reshape(-1)[0] if item.size else ""
        out.append(str(item))
    return out


def convert_deepfashion(
    language_file: str | os.PathLike[str],
    index_file: str | os.PathLike[str],
    image_root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    overwrite: bool = False,
) -> dict[str, Any]:
    """DeepFashion + FashionGAN sentences -> generic layout; returns the manifest.

    Args:
        language_file: FashionGAN's ``language_original.mat``.
        index_file: its ``ind.mat`` (``train_ind``, ``test_ind``, 1-based).
        image_root: the folder the ``nameList`` paths are relative to (DeepFashion's Category
            and Attribute Prediction Benchmark, holding ``img/``).
    """
    try:
        from scipy.io import loadmat
    except ImportError:
        raise MissingDependencyError(
            "reading FashionGAN's .mat files needs scipy: pip install scipy"
        ) from None
    language_file, index_file, image_root, out = map(Path, (language_file, index_file, image_root, out))
    for f in (language_file, index_file):
        if not f.is_file():
            raise InputError(f"{f} does not exist")
    _check_image_folder(image_root, "the folder of DeepFashion's Category and Attribute Prediction Benchmark (the one holding img/)")
    _check_overwrite(out, overwrite)
    lang, ind = (_read_mat(loadmat, f) for f in (language_file, index_file))
    for key, mat, f in (("engJ", lang, language_file), ("nameList", lang, language_file),
                        ("train_ind", ind, index_file), ("test_ind", ind, index_file)):
        if key not in mat:
            raise InputError(f"{f} has no variable {key!r}; is it FashionGAN's file?")
    sentences, names = _strings(lang["engJ"]), _strings(lang["nameList"])
    if len(sentences) != len(names):
        raise InputError(f"{language_file}: {len(sentences)} sentences for {len(names)} images")
    split_of: dict[int, str] = {}
    both = []
    for split, key in (("train", "train_ind"), ("test", "test_ind")):  # test last: it wins
        for i in ind[key].reshape(-1):
            i = int(i) - 1
            if not 0 <= i < len(names):
                raise InputError(f"{index_file}: index {i + 1} in {key} is out of range")
            if split_of.get(i, split) != split:
                both.append(i)
            split_of[i] = split
    if both:
        warnings.warn(
            f"{len(both)} images are in both train_ind and test_ind of {index_file.name} (first: "
            f"{both[0] + 1}, {names[both[0]]}); they are put in 'test' only, so that no test image "
            f"is trained on",
            DataWarning,
            stacklevel=2,
        )
    unsplit = sum(1 for i, text in enumerate(sentences) if text.strip() and i not in split_of)
    if unsplit:
        warnings.warn(
            f"{unsplit} of the {len(names)} described images are in neither train_ind nor test_ind "
            f"of {index_file.name}; they are left out",
            DataWarning,
            stacklevel=2,
        )
    described = [(i, split) for i, split in sorted(split_of.items()) if sentences[i].strip()]
    _check_images([image_root / names[i] for i, _ in described], image_root, language_file)
    rows = [
        {
            "id": f"{i:06d}",
            "image": _image_ref(image_root / names[i], out),
            "captions": [sentences[i].strip()],
            "split": split,
        }
        for i, split in described
    ]
    return _write(out, rows, "DeepFashion with FashionGAN sentences")
