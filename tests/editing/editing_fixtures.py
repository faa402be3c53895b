"""Stand-in models and odd or bad image files for the editing tests.

A module of its own (not conftest) so that tests can import it by a unique name.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from textedit.text.description_words import DESCRIPTION_WORDS

#: an untrained MIM-Net small enough to edit in milliseconds (32 px in; real vocabulary)
STANDIN_CONFIG = {
    "image_size": 32,
    "text_encoder": {
        "type": "bilstm",
        "vocabulary": list(DESCRIPTION_WORDS),
        "embedding_dim": 8,
        "hidden_dim": 6,
    },
    "memory_bank": {"type": "key_value", "num_slots": 6, "slot_dim": 4},
    "structure_extractor": {"type": "edge_cnn", "channels": 4},
    "localizer": {"type": "tlu"},
    "generator": {"type": "mimnet", "feature_size": 8, "channels": 8, "base_channels": 4},
    "discriminator": {
        "type": "tagan",
        "base_channels": 4,
        "max_channels": 8,
        "num_layers": 2,
        "hidden_dim": 4,
    },
}


def make_standin():
    import torch

    from textedit.models import MIMNet

    torch.manual_seed(0)
    return MIMNet(STANDIN_CONFIG).eval()


def bird(size: int = 48, seed: int = 0) -> Image.Image:
    from textedit.data.synthetic import render, sample_scene

    return Image.fromarray(
        render(sample_scene("birds", np.random.default_rng(seed)), size).image, "RGB"
    )


def png_claiming_size(width: int, height: int) -> bytes:
    """A valid 8x8 PNG whose header claims ``width x height`` (a decompression bomb's header)."""
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def write_odd_valid(folder: Path) -> dict[str, Path]:
    """Images that are odd but valid: grayscale, RGBA, CMYK, 16-bit, palette, tiny, wide."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = bird(40)
    arr16 = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(Image.new("L", rgb.size, 128))
    images = {
        "gray.png": rgb.convert("L"),
        "rgba.png": rgba,
        "cmyk.jpg": rgb.convert("CMYK"),
        "sixteen_bit.png": Image.fromarray(arr16),
        "palette.gif": rgb.convert("P"),
        "tiny_3x2.png": rgb.resize((3, 2)),
        "wide_90x30.png": rgb.resize((90, 30)),
    }
    out = {}
    for name, image in images.items():
        image.save(folder / name)
        out[name] = folder / name
    return out


def write_bad(folder: Path) -> dict[str, tuple[Path, str]]:
    """Invalid image files -> (path, a regex the error message must match)."""
    folder.mkdir(parents=True, exist_ok=True)
    good = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(
        good, "PNG"
    )
    files = {
        "not_an_image.png": (b"hello, I am text", "not an image"),
        "truncated.png": (good.getvalue()[: len(good.getvalue()) // 2], "truncated or corrupt"),
        "zero_bytes.png": (b"", "empty"),
        "huge_20000x20000.png": (png_claiming_size(20000, 20000), "megapixels"),
    }
    out = {}
    for name, (content, message) in files.items():
        (folder / name).write_bytes(content)
        out[name] = (folder / name, message)
    return out
