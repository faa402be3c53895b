"""Packed data sets: every image already at the training size, in memory-mapped arrays.

Shape legend: ``N`` images (all splits), ``K`` true edits per image, ``s`` image side.

Training from image files decodes a PNG or JPEG per item, and training on generated data
draws every scene (and, for the paired losses, its true edit) per item: on a GPU either
starves the model. ``textedit data pack`` does that work once and writes a folder that
:class:`PackedDataset` reads with no decoding and no drawing, only array slicing::

    packed.json        format, version, image size, counts, rows, the source, K, family,
                       the images skipped as unreadable
    records.jsonl      {"id", "captions", "split", "row", "label"}: each image of each split,
                       its row of images.npy (an image listed by several splits has one
                       row) and its class (data sets with classes; their mismatched
                       captions come from other classes, as unpacked)
    images.npy         (N, s, s, 3) uint8 RGB, after the size policy
    edits.jsonl        generated data: {"id", "descriptions"}: each row's K edit descriptions
    edit_targets.npy   (N, K, s, s, 3) uint8: the true edit of row i by description k
    edit_weights.npy   (N, K, s, s) float16: its per-part pixel weights (:func:`part_weights`)

The arrays are plain ``.npy`` files (``numpy.load(..., mmap_mode="r")``), opened lazily in
each process, so DataLoader workers share the pages through the operating system's cache.

Packing writes into ``.<name>.partial`` beside the output, records its progress after
every chunk of rows, and renames the folder into place when complete: an interrupted
``textedit data pack`` continues where it stopped when run again with the same arguments.
An image of a folder that cannot be read is left out (its row stays black and no record
points to it), counted in a ``DataWarning`` and listed in ``packed.json`` as the loaders
skip it.

A packed generated data set serves training exactly the images, captions and flips the
on-the-fly one does (:class:`~textedit.data.synthetic.data.SyntheticCaptionDataset` with
the same spec; tested). What differs is the mismatched description under the paired
losses: the on-the-fly data set edits each image by any other image's caption, drawn anew
each epoch, while a packed one draws among its ``K`` pre-drawn edits (each another image's
caption of the same split, fixed at packing).
"""

from __future__ import annotations

import abc
import errno
import json
import math
import multiprocessing
import os
import shutil
import signal
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from textedit._version import __version__
from textedit.data.base import CaptionDataset, CaptionRecord, DataWarning
from textedit.data.detect import detect_layout, open_dataset
from textedit.data.images import array_to_tensor, fit_square, to_rgb
from textedit.data.synthetic.data import SyntheticSpec, drawn_true_edit, reworded_item, reworded_vocabulary
from textedit.data.synthetic.grammar import parse
from textedit.data.synthetic.render import render
from textedit.errors import InputError
from textedit.text import Vocabulary
from textedit.utils.atomic import atomic_write_text, existing_ancestor, replace_directory
from textedit.utils.sizes import format_bytes

__all__ = ["PackedDataset", "pack_generated", "pack_folder", "read_packed_manifest", "PACKED_FORMAT"]

PACKED_FORMAT = "textedit-packed"
PACKED_VERSION = 2
_READ_VERSIONS = (1, 2)  # 1: no "row" in records.jsonl (line i is row i), nothing skipped
_MANIFEST = "packed.json"
_PROGRESS = "progress.json"
_CHUNK = 256  # rows per unit of work (and per progress record)


def read_packed_manifest(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``packed.json`` of a packed folder.

    Raises:
        InputError: ``root`` is not a packed data set, or one of another format version.
    """
    path = Path(root) / _MANIFEST
    if not path.is_file():
        raise InputError(
            f"{root} is not a packed data set (no {_MANIFEST}); write one with 'textedit data "
            f"pack', or use data.type folder / cub / oxford102 for image folders"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); pack the data set again") from None
    if manifest.get("format") != PACKED_FORMAT or manifest.get("format_version") not in _READ_VERSIONS:
        raise InputError(
            f"{root} holds packed format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r}; this textedit ({__version__}) reads "
            f"{PACKED_FORMAT!r} version {PACKED_VERSION}: pack the data set again"
        )
    return manifest


# ------------------------------------------------------------------------------ packing


class _Source(abc.ABC):
    """What a pack is made of: records, the row of images each reads (records of one image
    in several splits share its row), and a function drawing one chunk of rows."""

    def __init__(
        self, records: list[CaptionRecord], description: dict[str, Any], edits: int, row_of: list[int] | None = None
    ):
        self.records, self.description, self.edits = records, description, edits
        self.row_of = list(range(len(records))) if row_of is None else row_of
        self.rows = max(self.row_of, default=-1) + 1
        self._first = {}  # row -> its first record
        for i, row in enumerate(self.row_of):
            self._first.setdefault(row, i)

    def row_id(self, row: int) -> str:
        """The image id of ``row`` (its first record's)."""
        return self.records[self._first[row]].image_id

    @abc.abstractmethod
    def draw(self, rows: range) -> dict[str, Any]:
        """The arrays (``images``; with edits ``edit_targets``, ``edit_weights`` and the
        ``descriptions``) of ``rows``, ``unreadable`` (row -> reason, as a string key: it is
        saved as JSON) and, optionally, ``small`` (row -> ``[w, h]`` of the images smaller
        than the packed size, which were scaled up); runs in pool workers."""


class _GeneratedSource(_Source):
    def __init__(self, spec: SyntheticSpec, size: int, edits: int):
        records = spec.records()
        super().__init__(records, {"type": "generated", "spec": spec.to_dict()}, edits)
        self.spec, self.size = spec, size
        self.family = spec.family
        by_split: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            by_split.setdefault(r.split, []).append(i)
        self._by_split = by_split

    def edit_descriptions(self, i: int) -> list[str]:
        """Row ``i``'s ``K`` edit descriptions: captions of other images of its split."""
        rng = np.random.default_rng([self.spec.seed, i, 5])
        same = self._by_split[self.records[i].split]
        out = []
        for _ in range(self.edits):
            j = i
            while j == i and len(same) > 1:
                j = same[int(rng.integers(len(same)))]
            captions = self.records[j].captions
            out.append(captions[int(rng.integers(len(captions)))])
        return out

    def draw(self, rows: range) -> dict[str, Any]:
        s, k = self.size, self.edits
        images = np.empty((len(rows), s, s, 3), np.uint8)
        targets = np.empty((len(rows), k, s, s, 3), np.uint8)
        weights = np.empty((len(rows), k, s, s), np.float16)
        descriptions = []
        for row, i in enumerate(rows):
            scene = self.spec.scene(i)
            before = render(scene, s)
            images[row] = before.image
            texts = self.edit_descriptions(i)
            for e, text in enumerate(texts):
                targets[row, e], weights[row, e] = drawn_true_edit(scene, before, parse(text, self.family), s)
            descriptions.append(texts)
        return {"images": images, "edit_targets": targets, "edit_weights": weights, "descriptions": descriptions}


class _FolderSource(_Source):
    def __init__(self, root: Path, size: int, layout: str):
        layout = detect_layout(root) if layout == "auto" else layout
        datasets = []
        splits = _folder_splits(root, layout)
        for split in splits:
            datasets.append(open_dataset(root, split=split, image_size=size, layout=layout, train=False))
        where = [(d, i) for d in datasets for i in range(len(d.records))]
        records = [d.records[i] for d, i in where]
        rows: dict[tuple[Any, Any], int] = {}  # one row per image, whichever splits list it
        row_of = [rows.setdefault((r.path, r.box), len(rows)) for r in records]
        super().__init__(records, {"type": "folder", "root": str(root), "layout": layout}, 0, row_of)
        self.datasets, self.size = datasets, size
        self._where = [where[self._first[row]] for row in range(self.rows)]

    def draw(self, rows: range) -> dict[str, Any]:
        images = np.zeros((len(rows), self.size, self.size, 3), np.uint8)
        unreadable, small = {}, {}
        for row, i in enumerate(rows):
            ds, index = self._where[i]
            try:
                image = ds.read_image(index)
            except InputError as exc:  # left out of the records, as the loaders skip it
                unreadable[str(i)] = str(exc)
                continue
            if min(image.size) < self.size:
                small[str(i)] = list(image.size)
            images[row] = np.asarray(to_rgb(fit_square(image, self.size)))
        return {"images": images, "unreadable": unreadable, "small": small}


def _folder_splits(root: Path, layout: str) -> list[str]:
    if (root / _MANIFEST).is_file():
        raise InputError(f"{root} is a packed data set already; pack its source to change the size")
    probe, errors = None, []
    for split in ("train", "test", "val"):
        try:
            probe = open_dataset(root, split=split, image_size=8, layout=layout)
            break
        except InputError as exc:
            errors.append(str(exc))
    if probe is None:  # the same error for each split (a malformed file) is said once
        raise InputError(f"{root}: found nothing to pack: " + "; ".join(dict.fromkeys(errors)))
    return probe.splits


_WORKER_SOURCE: _Source | None = None


def _init_worker(source: _Source) -> None:
    global _WORKER_SOURCE
    # Ctrl-C reaches the whole process group: the main process stops the pack (and the
    # pool); a worker printing its own KeyboardInterrupt traceback would only add noise
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # how the pool ends its workers
    torch.set_num_threads(1)
    _WORKER_SOURCE = source


def _draw_chunk(rows: range) -> dict[str, Any]:
    assert _WORKER_SOURCE is not None
    return _WORKER_SOURCE.draw(rows)


def _chunks(n: int, start: int) -> list[range]:
    return [range(a, min(a + _CHUNK, n)) for a in range(start, n, _CHUNK)]


def _drawn_chunks(source: _Source, chunks: list[range], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 0:
        yield from (source.draw(rows) for rows in chunks)
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(source,)) as pool:
        yield from pool.imap(_draw_chunk, chunks)  # in order: rows are written as they come


def _keep_descriptions(path: Path, done: int) -> int:
    """Where a resumed pack starts, given that ``done`` rows are recorded as packed: the lines
    of a chunk stopped between writing them and recording its progress are cut off (appended
    to, they shifted every later row's descriptions against its true edits)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
    if len(lines) < done:  # cannot happen (lines are synced before the progress): start over
        return 0
    if len(lines) > done:
        atomic_write_text(path, "".join(lines[:done]))
    return done


def _pack(out: Path, source: _Source, size: int, overwrite: bool, workers: int, progress) -> dict[str, Any]:
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out} is a file; give a folder to pack into")
        if not overwrite:
            raise InputError(f"{out} already exists; pass --overwrite (overwrite=True) to replace it")
        if any(out.iterdir()) and not (out / _MANIFEST).is_file():
            raise InputError(f"refusing to replace {out}: it is not empty and not a packed data set")
    n, k = source.rows, source.edits
    identity = {"source": source.description, "image_size": size, "edits_per_image": k, "rows": n}
    partial = out.with_name(f".{out.name}.partial")
    done, unreadable, small = _resume_point(partial, identity)
    if done and k:
        done = _keep_descriptions(partial / "edits.jsonl", done)
    shapes = {"images": (n, size, size, 3)}
    if k:
        shapes.update(edit_targets=(n, k, size, size, 3), edit_weights=(n, k, size, size))
    dtypes = {"images": np.uint8, "edit_targets": np.uint8, "edit_weights": np.float16}
    need = sum(math.prod(shape) * np.dtype(dtypes[name]).itemsize for name, shape in shapes.items())
    free = shutil.disk_usage(existing_ancestor(partial)).free
    if not done and need > free:
        raise InputError(
            f"packing {n} images at {size} px needs {format_bytes(need)}, and {format_bytes(free)} is free where "
            f"{out} goes; pack at a smaller --size, or elsewhere"
        )
    partial.mkdir(parents=True, exist_ok=True)
    mode = "r+" if done else "w+"
    arrays = {
        name: np.lib.format.open_memmap(partial / f"{name}.npy", mode=mode, dtype=dtypes[name], shape=shape)
        for name, shape in shapes.items()
    }
    if not done:
        for name in arrays:  # the arrays are sparse files: a disk that fills while they are
            _reserve(partial / f"{name}.npy")  # written would kill the process (SIGBUS)
    descriptions_path = partial / "edits.jsonl"
    if progress is not None and done:
        progress(done)
    with open(descriptions_path, "a" if done else "w", encoding="utf-8") as descriptions:
        for rows, drawn in zip(_chunks(n, done), _drawn_chunks(source, _chunks(n, done), workers)):
            for name, array in arrays.items():
                array[rows.start : rows.stop] = drawn[name]
            for i, texts in zip(rows, drawn.get("descriptions", [])):
                descriptions.write(json.dumps({"id": source.row_id(i), "descriptions": texts}) + "\n")
            for array in arrays.values():
                array.flush()
            descriptions.flush()
            os.fsync(descriptions.fileno())
            unreadable.update(drawn.get("unreadable", {}))
            small = _smaller(small, drawn.get("small", {}))
            atomic_write_text(
                partial / _PROGRESS,
                json.dumps({**identity, "done": rows.stop, "unreadable": unreadable, "small": small}),
            )
            if progress is not None:
                progress(len(rows))
    del arrays
    kept = [(source.row_of[i], r) for i, r in enumerate(source.records) if str(source.row_of[i]) not in unreadable]
    if unreadable and not kept:
        shutil.rmtree(partial)  # nothing worth resuming
        raise InputError(f"no image of {source.description['root']} could be read; first: {next(iter(unreadable.values()))}")
    if unreadable:
        warnings.warn(
            f"skipped {len(unreadable)} unreadable images of {n}; first: {next(iter(unreadable.values()))} "
            f"(listed under 'skipped' in {out / _MANIFEST})",
            DataWarning,
            stacklevel=3,
        )
    if small["count"]:
        w, h = small["smallest"]
        warnings.warn(
            f"{small['count']} of the {n} images are smaller than {size} x {size} pixels and were "
            f"scaled up, so they are no sharper than before (the smallest: {w} x {h}, "
            f"{source.row_id(small['row'])}); pack at a smaller --size to keep them as they are",
            DataWarning,
            stacklevel=3,
        )
    records = [
        {"id": r.image_id, "captions": list(r.captions), "split": r.split, "row": row,
         **({"label": r.label} if r.label is not None else {})}
        for row, r in kept
    ]
    atomic_write_text(partial / "records.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    counts: dict[str, int] = {}
    for _, r in kept:
        counts[r.split] = counts.get(r.split, 0) + 1
    manifest = {
        "format": PACKED_FORMAT,
        "format_version": PACKED_VERSION,
        "textedit_version": __version__,
        "image_size": size,
        "counts": counts,
        "rows": n,
        "skipped": [{"id": source.row_id(int(row)), "reason": why} for row, why in unreadable.items()],
        "edits_per_image": k,
        "family": getattr(source, "family", None),
        "source": source.description,
    }
    (partial / _PROGRESS).unlink()
    if not k:
        descriptions_path.unlink()
    atomic_write_text(partial / _MANIFEST, json.dumps(manifest, indent=2) + "\n")
    replace_directory(partial, out)
    return manifest


def _reserve(path: Path) -> None:
    """Allocate the whole of a (sparse) file now, where the system can: a full disk is then
    an OSError naming it, not a SIGBUS in the middle of the pack."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            return  # a file system without it (some network ones): written as it goes
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        os.close(fd)


def _smaller(small: dict[str, Any], drawn: dict[str, list[int]]) -> dict[str, Any]:
    """The tally of images smaller than the packed size (their count, the smallest and its
    row) with a chunk's ``drawn`` (row -> ``[w, h]``) added: a count, not a list, so the
    progress file stays small for a data set of 200 000 small images."""
    small = dict(small)
    for row, (w, h) in drawn.items():
        small["count"] += 1
        if small["smallest"] is None or w * h < math.prod(small["smallest"]):
            small.update(smallest=[w, h], row=int(row))
    return small


def _resume_point(
    partial: Path, identity: dict[str, Any]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Rows already packed in ``partial`` by a run with the same arguments, those of them
    that were unreadable and the tally of those smaller than the packed size
    (:func:`_smaller`); else 0 and none: the folder is started afresh."""
    nothing_small = {"count": 0, "smallest": None, "row": None}
    try:
        saved = json.loads((partial / _PROGRESS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if saved is not None and {k: saved.get(k) for k in identity} == identity:
        return int(saved["done"]), dict(saved.get("unreadable", {})), saved.get("small", nothing_small)
    if saved is not None:
        changed = sorted(k for k in identity if saved.get(k) != identity[k])
        warnings.warn(
            f"the unfinished pack in {partial} ({saved.get('done', 0)} rows) was made with other "
            f"arguments ({', '.join(changed)}); it is discarded and the pack starts afresh",
            UserWarning,
            stacklevel=3,
        )
    shutil.rmtree(partial, ignore_errors=True)
    return 0, {}, nothing_small


def pack_generated(
    out: str | os.PathLike[str],
    spec: SyntheticSpec,
    image_size: int = 64,
    edits_per_image: int = 4,
    workers: int = 0,
    overwrite: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Pack the generated data set ``spec`` at ``image_size`` with ``edits_per_image`` true
    edits per image (0: images only); returns the manifest.

    Args:
        workers: processes drawing the images (0: this process).
        progress: called with the number of rows just finished (e.g. ``tqdm.update``).

    Raises:
        InputError: ``out`` exists and ``overwrite`` is False, or it holds something else.
    """
    if edits_per_image < 0:
        raise InputError(f"edits_per_image must be >= 0, got {edits_per_image}")
    if image_size < 16:
        raise InputError(f"image_size must be at least 16, got {image_size}")
    source = _GeneratedSource(spec, int(image_size), int(edits_per_image))
    return _pack(Path(out), source, int(image_size), overwrite, workers, progress)


def pack_folder(
    out: str | os.PathLike[str],
    root: str | os.PathLike[str],
    image_size: int = 256,
    layout: str = "auto",
    workers: int = 0,
    overwrite: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Pack every split of the data set in ``root`` (any layout :func:`open_dataset`
    reads) at ``image_size`` after the size policy (and CUB's crop boxes); returns the
    manifest. Missing and unreadable images are left out, each with a ``DataWarning`` that
    counts them (the unreadable ones are listed under ``skipped`` in the manifest).

    Raises:
        InputError: ``out`` exists and ``overwrite`` is False, or holds something else; no
            image of ``root`` can be read.
    """
    source = _FolderSource(Path(root), int(image_size), layout)
    return _pack(Path(out), source, int(image_size), overwrite, workers, progress)


# ------------------------------------------------------------------------------ reading


def _read_packed_records(path: Path) -> list[CaptionRecord]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} ({exc}); pack the data set again") from None
    for line_number, line in enumerate(lines):
        try:
            o = json.loads(line)
            row = int(o.get("row", line_number))  # version 1 has no "row": line i is row i
            label = o.get("label")
            records.append(CaptionRecord(
                o["id"], tuple(o["captions"]), o["split"], label=None if label is None else int(label), extras={"row": row}
            ))
        except (json.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
            raise InputError(f"{path} is damaged at line {line_number + 1} ({exc}); pack the data set again") from None
    return records


class PackedDataset(CaptionDataset):
    """A packed data set's split (the :class:`CaptionDataset` interface).

    Args:
        root: the packed folder.
        split: the split to serve.
        image_size: must equal the packed size (a packed data set is read, never resized).
        true_edits: items also hold ``mismatched_target`` and ``mismatched_weight`` (as
            :class:`~textedit.data.synthetic.data.SyntheticCaptionDataset`), the
            mismatched caption being one of the row's ``K`` packed edit descriptions.
        reword: as :class:`~textedit.data.synthetic.data.SyntheticCaptionDataset`
            (generated data only).
        kwargs: :class:`CaptionDataset` arguments (``train``, ``flip``, ``seed``, ...).

    Raises:
        InputError: not a packed folder, another image size, true edits / rewording asked
            of a pack without them, or damaged files (a record or array short of
            ``packed.json``'s counts).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        image_size: int | None = None,
        true_edits: bool = False,
        reword: float = 0.0,
        **kwargs: Any,
    ):
        self.root = Path(root)
        self.manifest = read_packed_manifest(self.root)
        packed_size = int(self.manifest["image_size"])
        if image_size is not None and int(image_size) != packed_size:
            raise InputError(
                f"{root} is packed at {packed_size} px but {image_size} px images were asked "
                f"for; pack it again with --size {image_size}"
            )
        self.family = self.manifest.get("family")
        self.edits_per_image = int(self.manifest.get("edits_per_image", 0))
        if true_edits and not self.edits_per_image:
            raise InputError(
                f"{root} holds no true edits, which the paired losses need; pack generated "
                f"data with --edits-per-image K (K >= 1)"
            )
        if reword and not self.family:
            raise InputError(f"reword rewrites generated descriptions; {root} is not generated data")
        self.true_edits, self.reword = bool(true_edits), float(reword)
        records = _read_packed_records(self.root / "records.jsonl")
        counted = sum(int(c) for c in self.manifest.get("counts", {}).values())
        rows = int(self.manifest.get("rows", counted))
        if len(records) != counted or not all(0 <= r.extras["row"] < rows for r in records):
            raise InputError(
                f"{self.root / 'records.jsonl'} holds {len(records)} records where packed.json counts "
                f"{counted} (of {rows} rows); pack the data set again"
            )
        kwargs.setdefault("name", f"packed data set {self.root}")
        super().__init__(records, split, packed_size, **kwargs)
        self._descriptions: list[list[str]] | None = None
        self._arrays: dict[str, np.ndarray] = {}
        k, size = self.edits_per_image, packed_size
        self._shapes = {"images": (rows, size, size, 3)}
        if k:
            self._shapes.update(edit_targets=(rows, k, size, size, 3), edit_weights=(rows, k, size, size))
        for name in self._shapes:  # the headers only: a truncated file is found here, not mid-run
            self._array(name)

    def __getstate__(self) -> dict[str, Any]:
        # Workers open their own memory maps (pickling one would copy the whole array).
        return {**self.__dict__, "_arrays": {}}

    def _array(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            path = self.root / f"{name}.npy"
            if not path.is_file():
                raise InputError(f"{path} is missing; pack the data set again")
            try:
                array = np.load(path, mmap_mode="r")
                problem = None if array.shape == self._shapes[name] else f"shape {array.shape}, not {self._shapes[name]}"
            except (OSError, ValueError) as exc:  # e.g. "mmap length is greater than file size"
                problem = str(exc)
            if problem is not None:
                raise InputError(f"{path} is damaged ({problem}); pack the data set again")
            self._arrays[name] = array
        return self._arrays[name]

    def _row(self, index: int) -> int:
        return int(self.records[index].extras["row"])

    def image_tensor(self, index: int, flip: bool = False) -> torch.Tensor:
        return array_to_tensor(self._array("images")[self._row(index)], flip)

    def read_image(self, index: int) -> Image.Image:
        return Image.fromarray(np.array(self._array("images")[self._row(index)]))

    def edit_descriptions(self, index: int) -> list[str]:
        """The ``K`` packed edit descriptions of record ``index``."""
        if self._descriptions is None:
            path = self.root / "edits.jsonl"
            try:
                descriptions = [json.loads(line)["descriptions"] for line in path.read_text(encoding="utf-8").splitlines()]
                problem = None if len(descriptions) == self._shapes["images"][0] else f"{len(descriptions)} rows"
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as exc:
                problem = str(exc)
            if problem is not None:
                raise InputError(f"{path} is damaged ({problem}); pack the data set again")
            self._descriptions = descriptions
        return self._descriptions[self._row(index)]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = super().__getitem__(index)
        if self.true_edits:
            i = item["index"]
            k = int(self._rng(i, 4).integers(self.edits_per_image))
            row = self._row(i)
            item["mismatched_caption"] = self.edit_descriptions(i)[k]
            item["mismatched_target"] = array_to_tensor(self._array("edit_targets")[row, k], item["flipped"])
            weight = torch.from_numpy(np.array(self._array("edit_weights")[row, k], dtype=np.float32))
            item["mismatched_weight"] = (weight.flip(-1) if item["flipped"] else weight)[None]
        if self.reword:
            reworded_item(item, self.family, self._rng(item["index"], 3), self.reword)
        return item

    def build_vocabulary(self, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """The training captions' vocabulary (with ``reword``, also one rewording of each)."""
        if self.reword:
            return reworded_vocabulary(self.captions("train"), self.family, self.seed, min_count, max_size)
        return super().build_vocabulary(min_count, max_size)
