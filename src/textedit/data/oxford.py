"""Reed et al.'s caption layout: Oxford-102 flowers (``cvpr2016_flowers``) and CUB birds
(``cvpr2016_cub``), with the images beside it.

Layout (Reed's caption archive unpacked, with the data set's images beside it)::

    cvpr2016_flowers/
      trainvalclasses.txt  testclasses.txt  (trainclasses.txt valclasses.txt allclasses.txt)
      text_c10/class_00001/image_06734.txt    ten captions per image, one per line
      images/class_00001.t7 ...               Reed's features (not read)
    jpg/image_06734.jpg                       (the Oxford archive's ``jpg`` folder)

    cvpr2016_cub/
      trainvalclasses.txt  testclasses.txt ...
      text_c10/001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.txt
    CUB_200_2011/images/001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111.jpg

Each class list names one class folder per line. Splits are by class, as in Reed et al.,
StackGAN and TAGAN: ``"train"`` = ``trainvalclasses.txt``, ``"test"`` = ``testclasses.txt``;
``"train_only"`` and ``"val"`` use ``trainclasses.txt`` and ``valclasses.txt`` where those
exist. ``root`` may also be the folder holding ``cvpr2016_*``. Unless ``image_dir`` is given,
the images are looked for, as ``<image>.jpg`` or ``<class>/<image>.jpg``, in ``jpg/``,
``images/``, ``../jpg``, ``../102flowers/jpg``, ``../CUB_200_2011/images``, ``CUB_200_2011/images`` and
``../images`` (a folder without the images, such as Reed's ``images/`` of ``.t7`` features,
is passed over). Birds found in ``CUB_200_2011/images`` are cropped to their box from
``CUB_200_2011/bounding_boxes.txt`` as :class:`~textedit.data.cub.CUBDataset` crops them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textedit.data.base import CaptionDataset, CaptionRecord
from textedit.data.cub import read_boxes, read_bird
from textedit.errors import InputError

__all__ = ["Oxford102Dataset", "read_oxford102", "SPLIT_FILES"]

SPLIT_FILES = {
    "train": "trainvalclasses.txt",
    "test": "testclasses.txt",
    "train_only": "trainclasses.txt",
    "val": "valclasses.txt",
}


def caption_root(root: Path) -> Path | None:
    """``root`` if it holds Reed's captions (``text_c10/`` and ``trainvalclasses.txt``), else
    the one folder inside it that does (``flowers/`` holding ``cvpr2016_flowers/``), else None."""
    def holds(folder: Path) -> bool:
        return (folder / "text_c10").is_dir() and (folder / "trainvalclasses.txt").is_file()

    if holds(root):
        return root
    inside = [child for child in sorted(root.iterdir()) if child.is_dir() and holds(child)] if root.is_dir() else []
    return inside[0] if len(inside) == 1 else None


def _image_folder(root: Path, samples: list[tuple[str, str]], image_dir: Path | None) -> tuple[Path, bool]:
    """The folder holding the images of ``samples`` (class, image) and whether it has one
    subfolder per class (CUB) rather than every image at its top (Oxford's ``jpg``)."""
    candidates = [image_dir] if image_dir is not None else [
        root / "jpg", root / "images", root.parent / "jpg", root.parent / "102flowers" / "jpg",
        root.parent / "CUB_200_2011" / "images", root / "CUB_200_2011" / "images", root.parent / "images",
    ]
    for folder in candidates:
        for cls, image in samples:
            if (folder / f"{image}.jpg").is_file():
                return folder, False
            if (folder / cls / f"{image}.jpg").is_file():
                return folder, True
    if image_dir is not None and image_dir.is_dir():  # none of the first images there: the loader says which are missing
        return image_dir, any(child.is_dir() for child in image_dir.iterdir())
    tried = ", ".join(str(c) for c in candidates)
    raise InputError(
        f"cannot find the images of the captions in {root} (looked for {samples[0][1]}.jpg in: {tried}); "
        f"unpack the images (Oxford's 102flowers.tgz gives jpg/, CUB's archive CUB_200_2011/images/) "
        f"beside {root.name}, or give their folder (image_dir)"
    )


def read_oxford102(
    root: str | os.PathLike[str], image_dir: str | os.PathLike[str] | None = None
) -> list[CaptionRecord]:
    """Records of every split whose class list exists (a class may be in several splits).

    Raises:
        InputError: ``root`` holds no Reed captions, a class list or class folder is
            missing, or the images cannot be found.
    """
    given = Path(root)
    root = caption_root(given)
    if root is None:
        raise InputError(
            f"{given} holds no text_c10/ folder with trainvalclasses.txt beside it; give the folder of "
            f"Reed's captions (cvpr2016_flowers or cvpr2016_cub)"
        )
    text = root / "text_c10"
    listed: list[tuple[str, str, list[str]]] = []  # (split, class, caption files)
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
            listed.append((split, cls, sorted(folder.glob("*.txt"))))
    samples = [(cls, f.stem) for _, cls, files in listed for f in files[:1]][:20]
    if not samples:
        raise InputError(f"the class folders of {text} hold no caption files")
    images, nested = _image_folder(root, samples, Path(image_dir) if image_dir is not None else None)
    boxes = read_boxes(images.parent) if nested and images.name == "images" else {}
    records = []
    for split, cls, files in listed:
        label = int("".join(ch for ch in cls.split(".")[0] if ch.isdigit()) or 0)
        for caption_file in files:
            lines = caption_file.read_text(encoding="utf-8", errors="replace").split("\n")
            captions = tuple(line.strip() for line in lines if line.strip())
            if captions:
                key = f"{cls}/{caption_file.stem}" if nested else caption_file.stem
                records.append(
                    CaptionRecord(
                        image_id=caption_file.stem,
                        captions=captions,
                        split=split,
                        path=images / f"{key}.jpg",
                        label=label,
                        extras={"bbox": boxes[key]} if key in boxes else {},
                    )
                )
    return records


class Oxford102Dataset(CaptionDataset):
    """A data set in Reed's caption layout (module docstring): Oxford-102, or CUB from
    ``cvpr2016_cub``; ``kwargs`` go to :class:`~textedit.data.base.CaptionDataset`.

    Args:
        root: the ``cvpr2016_*`` folder, or the folder holding it.
        image_dir: the images' folder, when it is not beside the captions.
        crop: crop CUB's birds to their boxes (when ``bounding_boxes.txt`` is found).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        image_size: int = 256,
        *,
        image_dir: str | os.PathLike[str] | None = None,
        crop: bool = True,
        **kwargs: Any,
    ):
        self.root = Path(root)
        self.crop = crop
        kwargs.setdefault("name", f"Reed captions ({self.root})")
        super().__init__(read_oxford102(self.root, image_dir), split, image_size, **kwargs)

    def read_image(self, index: int):
        return read_bird(self.records[index], self.crop)
