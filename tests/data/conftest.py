"""Fixtures: small data sets in the exact on-disk layouts of the real ones."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from data_fixtures import CUB_BOX, CUB_FILES, _captions, py2_numpy_ints, write_image


@pytest.fixture
def cub_root(tmp_path: Path) -> Path:
    """A CUB-200-2011 folder in AttnGAN's layout (``data/birds``)."""
    root = tmp_path / "birds"
    cub = root / "CUB_200_2011"
    keys = CUB_FILES["train"] + CUB_FILES["test"]
    (cub).mkdir(parents=True)
    (cub / "images.txt").write_text("".join(f"{i + 1} {k}.jpg\n" for i, k in enumerate(keys)))
    (cub / "bounding_boxes.txt").write_text(
        "".join(f"{i + 1} {' '.join(str(v) for v in CUB_BOX)}\n" for i in range(len(keys)))
    )
    for k in keys:
        write_image(cub / "images" / f"{k}.jpg", box=CUB_BOX)
        text = root / "text" / f"{k}.txt"
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text("\n".join(_captions(k)) + "\n")
    # captions.pickle: [train ids, test ids, ixtoword, wordtoix] (AttnGAN, protocol 2)
    words = sorted({w for k in keys for c in _captions(k) for w in c.split()})
    wordtoix = {"<end>": 0, **{w: i + 1 for i, w in enumerate(words)}}
    ixtoword = {i: w for w, i in wordtoix.items()}
    caps = {s: [[wordtoix[w] for w in c.split()] for k in CUB_FILES[s] for c in _captions(k)] for s in CUB_FILES}
    (root / "captions.pickle").write_bytes(pickle.dumps([caps["train"], caps["test"], ixtoword, wordtoix], protocol=2))
    for split, names in CUB_FILES.items():
        (root / split).mkdir()
        (root / split / "filenames.pickle").write_bytes(pickle.dumps(names, protocol=2))
        ids = [int(n.split(".")[0]) for n in names]
        (root / split / "class_info.pickle").write_bytes(py2_numpy_ints(ids))
    return root


@pytest.fixture
def oxford_root(tmp_path: Path) -> Path:
    """Reed's ``cvpr2016_flowers`` captions beside the Oxford ``jpg`` folder."""
    base = tmp_path / "flowers"
    root = base / "cvpr2016_flowers"
    classes = {"class_00001": ["image_06734", "image_06735"], "class_00002": ["image_05087"],
               "class_00003": ["image_06001"]}
    for cls, images in classes.items():
        for im in images:
            f = root / "text_c10" / cls / f"{im}.txt"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text("".join(f"this flower of {cls} has pink petals, caption {i}\n" for i in range(10)))
            write_image(base / "jpg" / f"{im}.jpg", size=(90, 60))
    (root / "trainvalclasses.txt").write_text("class_00001\nclass_00002\n")
    (root / "testclasses.txt").write_text("class_00003\n")
    (root / "allclasses.txt").write_text("class_00001\nclass_00002\nclass_00003\n")
    return root
