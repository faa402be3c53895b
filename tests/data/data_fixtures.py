"""Helpers that write small data sets in the exact on-disk layouts of the real ones.

A module of its own (not conftest) so that tests can import it by a unique name.
"""

from __future__ import annotations

import struct
from pathlib import Path

from PIL import Image

CUB_FILES = {
    "train": [
        "001.Black_footed_Albatross/Black_Footed_Albatross_0001_796111",
        "001.Black_footed_Albatross/Black_Footed_Albatross_0002_55",
        "002.Laysan_Albatross/Laysan_Albatross_0002_1027",
    ],
    "test": ["002.Laysan_Albatross/Laysan_Albatross_0003_1033"],
}
CUB_BOX = (30.0, 20.0, 40.0, 30.0)  # x, y, width, height of every bird


def py2_numpy_ints(values: list[int]) -> bytes:
    """A list of numpy int64 scalars pickled as Python 2 did (protocol 2, byte strings).

    This is what StackGAN's / AttnGAN's ``class_info.pickle`` holds: loading it in Python 3
    without ``encoding="bytes"``/``"latin1"`` fails on the first id >= 128.
    """
    out = bytearray(b"\x80\x02]q\x00(")
    for v in values:
        out += b"cnumpy.core.multiarray\nscalar\nq\x01"
        out += b"cnumpy\ndtype\nq\x02U\x02i8K\x00K\x01\x87R"
        out += b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        out += b"U\x08" + struct.pack("<q", v) + b"\x86R"
    out += b"e."
    return bytes(out)


def write_image(path: Path, size=(100, 80), colour=(120, 120, 120), box=None, box_colour=(220, 20, 20), fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, colour)
    if box is not None:
        x, y, w, h = (int(v) for v in box)
        img.paste(box_colour, (x, y, x + w, y + h))
    img.save(path, format=fmt, quality=95) if fmt == "JPEG" or path.suffix == ".jpg" else img.save(path)
    return path


def _captions(key: str) -> list[str]:
    bird = key.split("/")[1].split("_0")[0].replace("_", " ").lower()
    return [f"this {bird} number {i} has a white belly and dark wings" for i in range(10)]
