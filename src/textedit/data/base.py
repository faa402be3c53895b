"""The common interface of every captioned image data set.

Shape legend: ``s`` the image side (``image_size``).

A :class:`CaptionDataset` is a ``torch.utils.data.Dataset`` over the images of one split.
Item ``i`` is a dict:

* ``image``: ``(3, s, s)`` float32 in [-1, 1], after the size policy of
  :mod:`textedit.data.images` (and a random horizontal flip when training);
* ``caption``: one of the image's captions (a random one when training, the first otherwise);
* ``mismatched_caption``: a caption of another image (of another class when classes are
  known), for the adversarial stage;
* ``image_id``, ``path`` (``""`` for generated images), ``index`` and ``flipped`` (whether
  the image was flipped).

Randomness (caption choice, flip, mismatched caption) is a function of ``(seed, epoch,
index)`` only, so a run is reproducible whatever the worker count; call :meth:`set_epoch`
before each epoch (before the ``DataLoader`` iterator is made, as workers copy the data set).

Missing images are found when the data set is made and skipped with one warning that
counts them; unreadable images are skipped when first met (the item of the next readable
image is returned) with a warning naming the file. With ``strict=True`` either raises
:class:`~textedit.errors.InputError` naming the file. :meth:`verify` reads every image
up front.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from textedit.data.images import crop_box, fit_square, load_image, pil_to_tensor
from textedit.errors import InputError
from textedit.text import Vocabulary

__all__ = ["CaptionRecord", "CaptionDataset", "DataWarning"]


class DataWarning(UserWarning):
    """Images skipped from a data set (missing, unreadable, without captions)."""


@dataclass(frozen=True)
class CaptionRecord:
    """One image of a data set and its captions.

    Attributes:
        image_id: a stable identifier, unique in the data set.
        captions: the image's descriptions (at least one).
        split: ``"train"``, ``"test"``, ``"val"`` ...
        path: the image file (None for generated images).
        box: a crop ``(left, top, right, bottom)`` in pixels applied before the size policy.
        label: a class id when the data set has classes (mismatched captions then come from
            another class).
        extras: loader-specific values (the scene of a generated image ...).
    """

    image_id: str
    captions: tuple[str, ...]
    split: str
    path: Path | None = None
    box: tuple[float, float, float, float] | None = None
    label: int | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


class CaptionDataset(torch.utils.data.Dataset):
    """Images of one split with their captions.

    Args:
        records: every record of the data set, all splits (for :meth:`captions`).
        split: the split this data set serves.
        image_size: side ``s`` of the square images returned.
        train: random caption and flip (default: ``split == "train"``).
        flip: random horizontal flip (default: ``train``); only for content without a
            left-right meaning in its captions, which holds for birds, flowers, faces and
            clothes as described in these data sets.
        seed: base of every random choice.
        strict: raise on the first missing or unreadable image instead of skipping it.
        name: the data set's name in messages.

    Raises:
        InputError: no record in ``split`` (the message lists the splits there are), or a
            missing image under ``strict``.
    """

    def __init__(
        self,
        records: Sequence[CaptionRecord],
        split: str = "train",
        image_size: int = 256,
        *,
        train: bool | None = None,
        flip: bool | None = None,
        seed: int = 0,
        strict: bool = False,
        name: str = "data set",
    ):
        if int(image_size) < 8:
            raise InputError(f"image_size must be at least 8, got {image_size}")
        self.name = name
        self.all_records = list(records)
        self.split = split
        self.image_size = int(image_size)
        self.train = (split == "train") if train is None else bool(train)
        self.flip = self.train if flip is None else bool(flip)
        self.seed = int(seed)
        self.strict = strict
        self.epoch = 0
        #: ``(path or id, reason)`` for every image skipped so far
        self.skipped: list[tuple[str, str]] = []
        records = [r for r in self.all_records if r.split == split]
        if not records:
            raise InputError(
                f"{name} has no images in split {split!r}; splits present: "
                f"{', '.join(self.splits) or 'none'}"
            )
        self.records = self._drop_missing(records)
        self._bad: set[int] = set()

    # ------------------------------------------------------------------ records

    @property
    def splits(self) -> list[str]:
        """The splits present, in first-seen order."""
        return list(dict.fromkeys(r.split for r in self.all_records))

    def _drop_missing(self, records: list[CaptionRecord]) -> list[CaptionRecord]:
        kept, missing = [], []
        for r in records:
            if r.path is not None and not r.path.is_file():
                if self.strict:
                    raise InputError(
                        f"{self.name}: image {r.path} does not exist (image {r.image_id!r}); "
                        f"restore it or run without strict mode to skip missing images"
                    )
                missing.append(str(r.path))
            else:
                kept.append(r)
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        if missing and not kept:
            raise InputError(
                f"{self.name}: every image of split {self.split!r} is missing ({shown}); are the "
                f"images where the captions' layout says (see docs/data.md)?"
            )
        if missing:
            self.skipped.extend((m, "missing") for m in missing)
            warnings.warn(
                f"{self.name}: skipped {len(missing)} of {len(records)} images of split "
                f"{self.split!r} because the files are missing ({shown}); see .skipped",
                DataWarning,
                stacklevel=3,
            )
        return kept

    def __len__(self) -> int:
        return len(self.records)

    def captions(self, split: str | None = "train") -> list[str]:
        """Every caption of ``split`` (all splits when None), e.g. to build a vocabulary."""
        return [c for r in self.all_records if split is None or r.split == split for c in r.captions]

    def build_vocabulary(self, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """The vocabulary of the training captions (:meth:`Vocabulary.build`)."""
        texts = self.captions("train")
        if not texts:
            raise InputError(f"{self.name} has no training captions to build a vocabulary from")
        return Vocabulary.build(texts, min_count=min_count, max_size=max_size)

    # ------------------------------------------------------------------ randomness

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random choices the items use."""
        self.epoch = int(epoch)

    def _rng(self, index: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, index, stream])

    def caption_index(self, index: int) -> int:
        """Which caption of image ``index`` the item uses this epoch."""
        if not self.train:
            return 0
        return int(self._rng(index, 0).integers(len(self.records[index].captions)))

    def mismatched_caption(self, index: int) -> str:
        """A caption of another image (another class when known), fixed by seed and epoch."""
        rng = self._rng(index, 1)
        me = self.records[index]
        n = len(self.records)
        for _ in range(32):
            j = int(rng.integers(n))
            other = self.records[j]
            if j != index and (me.label is None or other.label != me.label):
                break
        else:  # a single image, or a single class: take any other image
            j = (index + 1) % n
            other = self.records[j]
        return other.captions[int(rng.integers(len(other.captions)))]

    # ------------------------------------------------------------------ images

    def read_image(self, index: int) -> Image.Image:
        """The RGB image of record ``index`` before the size policy (crop box applied).

        Raises:
            InputError: the image cannot be read.
        """
        record = self.records[index]
        if record.path is None:
            raise InputError(f"{self.name}: image {record.image_id!r} has no file")
        return crop_box(load_image(record.path), record.box)

    def image_tensor(self, index: int, flip: bool = False) -> torch.Tensor:
        """``(3, s, s)`` image of record ``index`` in [-1, 1]."""
        img = fit_square(self.read_image(index), self.image_size)
        if flip:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return pil_to_tensor(img)

    def verify(self) -> int:
        """Read every image now; skip (or, under ``strict``, raise on) unreadable ones.

        Returns:
            how many images were skipped by this call.
        """
        bad = []
        for i in range(len(self.records)):
            try:
                self.read_image(i)
            except InputError as exc:
                if self.strict:
                    raise
                bad.append((i, str(exc)))
        if bad:
            self.skipped.extend((self._where(i), msg) for i, msg in bad)
            drop = {i for i, _ in bad}
            self.records = [r for i, r in enumerate(self.records) if i not in drop]
            warnings.warn(
                f"{self.name}: skipped {len(bad)} unreadable images of split {self.split!r}; "
                f"first: {bad[0][1]}",
                DataWarning,
                stacklevel=2,
            )
        return len(bad)

    def _where(self, index: int) -> str:
        r = self.records[index]
        return str(r.path) if r.path is not None else r.image_id

    def __getitem__(self, index: int) -> dict[str, Any]:
        n = len(self.records)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} images")
        index %= n
        for step in range(n):
            i = (index + step) % n
            if i in self._bad:
                continue
            flip = self.flip and bool(self._rng(i, 2).random() < 0.5)
            try:
                image = self.image_tensor(i, flip=flip)
            except InputError as exc:
                if self.strict:
                    raise
                self._bad.add(i)
                self.skipped.append((self._where(i), str(exc)))
                warnings.warn(
                    f"{self.name}: skipped an unreadable image ({len(self._bad)} so far): {exc}",
                    DataWarning,
                    stacklevel=2,
                )
                continue
            record = self.records[i]
            return {
                "image": image,
                "caption": record.captions[self.caption_index(i)],
                "mismatched_caption": self.mismatched_caption(i),
                "image_id": record.image_id,
                "path": str(record.path) if record.path is not None else "",
                "index": i,
                "flipped": flip,
            }
        raise InputError(f"{self.name}: no image of split {self.split!r} could be read")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, split={self.split!r}, images={len(self)}, "
            f"image_size={self.image_size})"
        )
