"""CUB-200-2011 birds with AttnGAN's preprocessed metadata.

Layout (AttnGAN's ``data/birds`` after unpacking its metadata and the CUB archive)::

    birds/
      captions.pickle            [train_ids, test_ids, ixtoword, wordtoix]
      train/filenames.pickle     ["002.Laysan_Albatross/Laysan_Albatross_0002_1027", ...]
      train/class_info.pickle    one class id per file (a Python 2 pickle: numpy integers; test/: ints)
      test/filenames.pickle, test/class_info.pickle
      text/<class>/<image>.txt   ten captions per image, one per line
      CUB_200_2011/images/<class>/<image>.jpg
      CUB_200_2011/images.txt            "<n> <class>/<image>.jpg"
      CUB_200_2011/bounding_boxes.txt    "<n> <x> <y> <width> <height>"

Captions come from ``text/`` when it is there (the original sentences), otherwise from
``captions.pickle``, whose ``k``-th image owns entries ``k*10 .. k*10+9`` of its split's list,
decoded with ``ixtoword``. Images are cropped as AttnGAN does: a square of 1.5 times the
longer side of the bird's box, centred on the box and clipped to the image, then put through
the size policy. Every pickle is read with :func:`~textedit.data.pickles.load_pickle`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from textedit.data.base import CaptionDataset, CaptionRecord, DataWarning
from textedit.data.images import crop_box, load_image
from textedit.data.pickles import load_pickle
from textedit.errors import InputError

__all__ = ["CUBDataset", "read_cub", "read_bird", "read_boxes", "cub_crop_box", "CAPTIONS_PER_IMAGE"]

CAPTIONS_PER_IMAGE = 10


def cub_crop_box(bbox: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """AttnGAN's crop of a CUB image: ``bbox = (x, y, w, h)`` -> ``(left, top, right, bottom)``."""
    x, y, w, h = bbox
    r = int(max(w, h) * 0.75)
    cx, cy = int((2 * x + w) / 2), int((2 * y + h) / 2)
    return max(0, cx - r), max(0, cy - r), min(width, cx + r), min(height, cy + r)


def read_boxes(cub: Path) -> dict[str, tuple[float, float, float, float]]:
    """``<class>/<image>`` -> its bird's box ``(x, y, width, height)``, from the CUB archive's
    ``images.txt`` and ``bounding_boxes.txt`` in ``cub`` (none when either is missing)."""
    names_file, boxes_file = cub / "images.txt", cub / "bounding_boxes.txt"
    if not names_file.is_file() or not boxes_file.is_file():
        return {}
    names = {}
    for number, line in enumerate(names_file.read_text(encoding="utf-8").split("\n"), 1):
        if line.strip():
            fields = line.split(maxsplit=1)
            if len(fields) != 2:
                raise InputError(f"{names_file}:{number}: expected '<image id> <file name>', got {line.strip()!r}")
            names[fields[0]] = fields[1].strip()
    boxes = {}
    for line in boxes_file.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            n, *values = line.split()
            if n in names and len(values) == 4:
                key = os.path.splitext(names[n])[0]
                boxes[key] = tuple(float(v) for v in values)
    return boxes


def _text_captions(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace").replace("\ufffd\ufffd", " ")
    return [line.strip() for line in text.split("\n") if line.strip()]


def read_cub(root: str | os.PathLike[str], captions_from: str = "auto") -> list[CaptionRecord]:
    """Records of both splits of an AttnGAN-layout CUB folder.

    Args:
        root: the ``birds`` folder.
        captions_from: ``"text"`` (the ``text/`` files), ``"pickle"`` (``captions.pickle``)
            or ``"auto"`` (text when the folder exists).

    Raises:
        InputError: a required file is missing or malformed (named in the message).
    """
    root = Path(root)
    if captions_from not in ("auto", "text", "pickle"):
        raise InputError(f"captions_from must be 'auto', 'text' or 'pickle', got {captions_from!r}")
    if not (root / "train" / "filenames.pickle").is_file():
        above = root.name == "CUB_200_2011" and (root.parent / "train" / "filenames.pickle").is_file()
        raise InputError(
            f"{root} is not AttnGAN's CUB folder (no train/filenames.pickle); "
            + (f"give the folder above it, {root.parent}" if above else
               "give the birds/ folder holding train/, test/, text/ (or captions.pickle) and CUB_200_2011/; "
               "Reed's cvpr2016_cub captions are read as layout 'oxford102'")
        )
    use_text = captions_from == "text" or (captions_from == "auto" and (root / "text").is_dir())
    cub = root / "CUB_200_2011"
    if not (cub / "images").is_dir() and (cub / "CUB_200_2011" / "images").is_dir():
        raise InputError(
            f"the CUB archive is unpacked one level too deep: move the contents of {cub / 'CUB_200_2011'} "
            f"up into {cub}"
        )
    boxes = read_boxes(cub)
    pickled = None
    if not use_text:
        pickled = load_pickle(root / "captions.pickle")
        if not (isinstance(pickled, (list, tuple)) and len(pickled) >= 3 and isinstance(pickled[2], dict)):
            raise InputError(
                f"{root / 'captions.pickle'} should hold [train_captions, test_captions, "
                f"ixtoword, wordtoix] as AttnGAN writes it"
            )
    records = []
    for k, split in enumerate(("train", "test")):
        names_path = root / split / "filenames.pickle"
        names = load_pickle(names_path)
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{names_path} should hold a list of file names")
        labels = _class_ids(root / split / "class_info.pickle", names)
        for i, key in enumerate(names):
            if use_text:
                caption_path = root / "text" / f"{key}.txt"
                if not caption_path.is_file():
                    raise InputError(f"captions {caption_path} are missing (image {key!r})")
                captions = _text_captions(caption_path)
            else:
                ixtoword = pickled[2]
                ids = pickled[k][i * CAPTIONS_PER_IMAGE : (i + 1) * CAPTIONS_PER_IMAGE]
                captions = [" ".join(str(ixtoword.get(w, "")) for w in cap).strip() for cap in ids]
                captions = [c for c in captions if c]
            if not captions:
                raise InputError(f"image {key!r} of CUB has no captions")
            records.append(
                CaptionRecord(
                    image_id=key,
                    captions=tuple(captions),
                    split=split,
                    path=cub / "images" / f"{key}.jpg",
                    label=labels[i],
                    extras={"bbox": boxes.get(key)},
                )
            )
    return records


def _class_ids(path: Path, names: list[str]) -> list[int]:
    if path.is_file():
        ids = load_pickle(path)
        if not hasattr(ids, "__len__"):
            raise InputError(f"{path} does not hold a list of class ids (it holds: {type(ids).__name__})")
        if len(ids) != len(names):
            raise InputError(f"{path} has {len(ids)} class ids for {len(names)} file names")
        return [int(i) for i in ids]
    # without class_info.pickle: the class number that prefixes the folder ("002.Laysan...")
    out = []
    for n in names:
        head = n.split("/")[0].split(".")[0]
        out.append(int(head) if head.isdigit() else hash(n.split("/")[0]) % 100_000)
    return out


class CUBDataset(CaptionDataset):
    """CUB-200-2011 in AttnGAN's layout, ``split`` ``"train"`` or ``"test"``.

    Args:
        root: the ``birds`` folder.
        crop: apply AttnGAN's 1.5x bounding-box crop (when ``bounding_boxes.txt`` exists).
        captions_from: see :func:`read_cub`.
        kwargs: passed to :class:`~textedit.data.base.CaptionDataset`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        image_size: int = 256,
        *,
        crop: bool = True,
        captions_from: str = "auto",
        **kwargs: Any,
    ):
        self.root = Path(root)
        self.crop = crop
        kwargs.setdefault("name", f"CUB-200-2011 ({self.root})")
        super().__init__(read_cub(self.root, captions_from), split, image_size, **kwargs)
        if crop and not any(r.extras.get("bbox") for r in self.records):
            warnings.warn(
                f"{self.name}: no bird boxes in {self.root / 'CUB_200_2011'} (images.txt and "
                f"bounding_boxes.txt of the CUB archive): the images are not cropped to the bird "
                f"as AttnGAN crops them; pass crop=False to mean it",
                DataWarning,
                stacklevel=2,
            )

    def read_image(self, index: int):
        return read_bird(self.records[index], self.crop)


def read_bird(record: CaptionRecord, crop: bool = True):
    """The image of a CUB record, cropped to its bird (``extras["bbox"]``) when ``crop`` and
    the record has a box (an empty or outside box: the whole image)."""
    img = load_image(record.path)
    bbox = record.extras.get("bbox")
    if crop and bbox is not None:
        img = crop_box(img, cub_crop_box(bbox, *img.size))
    return img
