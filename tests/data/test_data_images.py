"""Robust image loading, the size policy and tensor conversions."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from textedit.data.images import fit_square, images_to_tensor, load_image, pil_to_tensor, tensor_to_pil
from textedit.errors import InputError


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def test_grayscale_and_one_bit(tmp_path):
    g = load_image(_save(Image.new("L", (5, 4), 77), tmp_path / "g.png"))
    assert g.mode == "RGB" and g.size == (5, 4) and g.getpixel((0, 0)) == (77, 77, 77)
    b = load_image(_save(Image.new("1", (3, 3), 1), tmp_path / "b.png"))
    assert b.getpixel((1, 1)) == (255, 255, 255)


def test_rgba_composites_on_white(tmp_path):
    img = Image.new("RGBA", (2, 1), (255, 0, 0, 0))
    img.putpixel((1, 0), (0, 0, 255, 255))
    out = load_image(_save(img, tmp_path / "a.png"))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 0)) == (0, 0, 255)
    la = load_image(_save(Image.new("LA", (1, 1), (0, 128)), tmp_path / "la.png"))
    assert la.getpixel((0, 0))[0] in (127, 128)


def test_palette_with_and_without_transparency(tmp_path):
    p = Image.new("P", (2, 1), 0)
    p.putpalette([10, 20, 30, 200, 100, 0] + [0] * 762)
    p.putpixel((1, 0), 1)
    assert load_image(_save(p, tmp_path / "p.png")).getpixel((1, 0)) == (200, 100, 0)
    out = load_image(_save(p, tmp_path / "pt.png", transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((1, 0)) == (200, 100, 0)


def test_cmyk(tmp_path):
    out = load_image(_save(Image.new("CMYK", (4, 4), (0, 255, 255, 0)), tmp_path / "c.jpg"))
    r, g, b = out.getpixel((1, 1))
    assert r > 200 and g < 60 and b < 60


def test_sixteen_bit_scaled_from_full_range(tmp_path):
    arr = np.array([[0, 65535, 32896]], dtype=np.uint16)
    path = _save(Image.fromarray(arr), tmp_path / "d.png")
    assert Image.open(path).mode.startswith("I")
    out = load_image(path)
    assert [out.getpixel((i, 0))[0] for i in range(3)] == [0, 255, 128]


def test_tiny_image_fits(tmp_path):
    out = fit_square(load_image(_save(Image.new("RGB", (1, 1), (9, 8, 7)), tmp_path / "t.png")), 64)
    assert out.size == (64, 64) and out.getpixel((10, 50)) == (9, 8, 7)


def test_size_policy_shorter_side_then_centre_crop():
    img = Image.new("RGB", (300, 100), (0, 0, 0))
    img.paste((255, 0, 0), (100, 0, 200, 100))  # the centre square is red
    out = fit_square(img, 50)
    assert out.size == (50, 50)
    assert np.asarray(out)[:, :, 0].min() > 200
    same = Image.new("RGB", (64, 64))
    assert fit_square(same, 64) is same


def _png_with_size(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.png", b"", "empty"),
        ("text.png", b"hello, not an image", "not an image"),
        ("huge.png", _png_with_size(20000, 20000), "megapixels"),
        ("wide.png", _png_with_size(12000, 12000), "megapixels"),
    ],
)
def test_bad_files_raise_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        load_image(path)
    assert name in str(info.value)


@pytest.mark.parametrize("fmt, suffix", [("PNG", "png"), ("JPEG", "jpg")])
def test_truncated_files(tmp_path, fmt, suffix):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, fmt)
    path = tmp_path / f"cut.{suffix}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated or corrupt") as info:
        load_image(path)
    assert f"cut.{suffix}" in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(InputError, match="directory"):
        load_image(tmp_path)


def test_tensor_round_trip():
    arr = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    t = pil_to_tensor(Image.fromarray(arr))
    assert t.shape == (3, 6, 5) and t.dtype == torch.float32
    assert t.min() >= -1 and t.max() <= 1
    assert np.array_equal(np.asarray(tensor_to_pil(t)), arr)
    batch = images_to_tensor([Image.fromarray(arr), Image.new("L", (9, 9))], size=4)
    assert batch.shape == (2, 3, 4, 4)
    assert len(tensor_to_pil(batch)) == 2
    with pytest.raises(InputError, match="shape"):
        tensor_to_pil(torch.zeros(2, 4, 4))
