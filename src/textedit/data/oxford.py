"""Oxford-102 flowers with Reed et al.'s captions (``cvpr2016_flowers``).

Layout (Reed's caption archive unpacked, with the flower images beside it)::

    cvpr2016_flowers/
      trainvalclasses.txt  testclasses.txt  (trainclasses.txt valclasses.txt allclasses.txt)
      text_c10/class_00001/image_06734.txt    ten captions per image, one per line
    102flowers/jpg/image_06734.jpg            (the Oxford archive's ``jpg`` folder)

Each class list names one class folder per line (``class_00001``). Splits are by class, as
in Reed et al., StackGAN and TAGAN: ``"train"`` = ``trainvalclasses.txt``, ``"test"`` =
``testclasses.txt``; ``"train_only"`` and ``"val"`` use ``trainclasses.txt`` and
``valclasses.txt`` where those exist. The image folder is found at ``jpg/``,
``images/``, ``../jpg`` or ``../102flowers/jpg`` unless given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textedit.data.base import CaptionDataset, CaptionRecord
from textedit.errors import InputError

__all__ = ["Oxford102Dataset", "read_oxford102", "SPLIT_FILES"]

SPLIT_FILES = {
    "train": "trainvalclasses.txt",
    "test": "testclasses.txt",
    "train_only": "trainclasses.txt",
    "val": "valclasses.txt",
}


def _find_images(root: Path) -> Path:
    for candidate in (root / "jpg", root / "images", root.parent / "jpg", root.parent / "102flowers" / "jpg"):
        if candidate.is_dir():
            return candidate
    raise InputError(
        f"cannot find the flower images next to {root}; unpack 102flowers.tgz so that its "
        f"jpg/ folder is at {root / 'jpg'} or {root.parent / 'jpg'}, or pass image_dir"
    )


def read_oxford102(
    root: str | os.PathLike[str], image_dir: str | os.PathLike[str] | None = None
) -> list[CaptionRecord]:
    """Records of every split whose class list exists (a class may be in several splits)."""
    root = Path(root)
    text = root / "text_c10"
    if not text.is_dir():
        raise InputError(f"{text} does not exist; give the folder of Reed's cvpr2016_flowers captions")
    images = Path(image_dir) if image_dir is not None else _find_images(root)
    records = []
    for split, filename in SPLIT_FILES.items():
        listing = root / filename
        if not listing.is_file():
            if split in ("train", "test"):
                raise InputError(f"{listing} is missing; it lists the classes of the {split!r} split")
            continue
        for cls in listing.read_text(encoding="utf-8").split():
            folder = text / cls
            if not folder.is_dir():
                raise InputError(f"{folder} is missing (class {cls!r} of {listing.name})")
            label = int("".join(ch for ch in cls if ch.isdigit()) or 0)
            for caption_file in sorted(folder.glob("*.txt")):
                lines = caption_file.read_text(encoding="utf-8", errors="replace").split("\n")
                captions = tuple(line.strip() for line in lines if line.strip())
                if captions:
                    records.append(
                        CaptionRecord(
                            image_id=caption_file.stem,
                            captions=captions,
                            split=split,
                            path=images / f"{caption_file.stem}.jpg",
                            label=label,
                        )
                    )
    return records


class Oxford102Dataset(CaptionDataset):
    """Oxford-102 with Reed's captions; ``kwargs`` go to :class:`~textedit.data.base.CaptionDataset`."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        image_size: int = 256,
        *,
        image_dir: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ):
        self.root = Path(root)
        kwargs.setdefault("name", f"Oxford-102 ({self.root})")
        super().__init__(read_oxford102(self.root, image_dir), split, image_size, **kwargs)
