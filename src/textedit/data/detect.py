"""Recognising a data set's layout from its folder, and opening it with the right loader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textedit.data.base import CaptionDataset
from textedit.data.cub import CUBDataset
from textedit.data.folder import FolderDataset
from textedit.data.oxford import Oxford102Dataset, caption_root
from textedit.errors import InputError

__all__ = ["detect_layout", "open_dataset", "LAYOUTS"]

LAYOUTS = ("folder", "cub", "oxford102", "packed")


def detect_layout(root: str | os.PathLike[str]) -> str:
    """``"packed"``, ``"cub"`` (AttnGAN's layout), ``"oxford102"`` (Reed's caption layout:
    Oxford-102, or CUB from ``cvpr2016_cub``) or ``"folder"`` for the data set in ``root``.

    Raises:
        InputError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    if (root / "packed.json").is_file():
        return "packed"
    if (root / "train" / "filenames.pickle").is_file() and (root / "CUB_200_2011").is_dir():
        return "cub"
    if caption_root(root) is not None:
        return "oxford102"
    return "folder"


def open_dataset(
    root: str | os.PathLike[str], split: str = "train", image_size: int = 256, layout: str = "auto", **kwargs: Any
) -> CaptionDataset:
    """The data set in ``root`` with the loader its layout needs (``layout`` forces one)."""
    layout = detect_layout(root) if layout == "auto" else layout
    if layout == "cub":
        return CUBDataset(root, split, image_size, **kwargs)
    if layout == "oxford102":
        return Oxford102Dataset(root, split, image_size, **kwargs)
    if layout == "folder":
        return FolderDataset(root, split, image_size, **kwargs)
    if layout == "packed":
        # lazy: textedit.data.packed imports this module (it packs any layout opened here)
        from textedit.data.packed import PackedDataset

        return PackedDataset(root, split, image_size, **kwargs)
    raise InputError(f"unknown layout {layout!r}; choose one of: auto, {', '.join(LAYOUTS)}")
