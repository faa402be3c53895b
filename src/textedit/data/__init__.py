"""Data sets: generated ones with ground truth, real ones (CUB, Oxford-102), your own folders.

Every loader returns a :class:`~textedit.data.base.CaptionDataset` (items: an image tensor
in [-1, 1], a caption, a mismatched caption, ids). Names are loaded on first access so that
``import textedit.data`` stays cheap.

* :class:`FolderDataset`: the generic layout (also CelebA and DeepFashion after
  :mod:`textedit.data.convert`, and data sets written by ``textedit data generate``).
* :class:`CUBDataset`, :class:`Oxford102Dataset`: the real data sets in their published layouts.
* :class:`SyntheticCaptionDataset`, :class:`SyntheticEditPairs`, :class:`FolderEditPairs`:
  generated data, on the fly or from disk (:mod:`textedit.data.synthetic`).
* :class:`PackedDataset`: a data set packed into memory-mapped arrays by
  :func:`pack_generated` / :func:`pack_folder` (``textedit data pack``), the fast path
  for training (:mod:`textedit.data.packed`).
* :func:`open_dataset`: pick the loader from a folder's layout.
* :mod:`textedit.data.images`: robust image reading and the size policy.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CaptionDataset": "textedit.data.base",
    "CaptionRecord": "textedit.data.base",
    "DataWarning": "textedit.data.base",
    "FolderDataset": "textedit.data.folder",
    "CUBDataset": "textedit.data.cub",
    "Oxford102Dataset": "textedit.data.oxford",
    "SyntheticSpec": "textedit.data.synthetic.data",
    "SyntheticCaptionDataset": "textedit.data.synthetic.data",
    "SyntheticEditPairs": "textedit.data.synthetic.data",
    "FolderEditPairs": "textedit.data.synthetic.data",
    "generate_dataset": "textedit.data.synthetic.writer",
    "load_image": "textedit.data.images",
    "fit_square": "textedit.data.images",
    "pil_to_tensor": "textedit.data.images",
    "tensor_to_pil": "textedit.data.images",
    "images_to_tensor": "textedit.data.images",
    "load_pickle": "textedit.data.pickles",
    "open_dataset": "textedit.data.detect",
    "convert_celeba": "textedit.data.convert",
    "convert_deepfashion": "textedit.data.convert",
    "make_edit_pair": "textedit.data.synthetic.data",
    "detect_layout": "textedit.data.detect",
    "PackedDataset": "textedit.data.packed",
    "pack_generated": "textedit.data.packed",
    "pack_folder": "textedit.data.packed",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'textedit.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
