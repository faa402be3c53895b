"""Atomic writes: targets with names up to the file system's limit, errors that name them."""

from __future__ import annotations

import os

import pytest

from textedit.utils.atomic import atomic_directory, atomic_save, atomic_write_text


@pytest.mark.parametrize("name", ["x" * 251 + ".png", "头" * 83 + ".png"])  # 255 and 253 bytes
def test_a_name_at_the_limit_is_written(tmp_path, name):
    atomic_save(tmp_path / name, lambda tmp: tmp.write_bytes(b"png"))
    assert (tmp_path / name).read_bytes() == b"png"
    atomic_write_text(tmp_path / name, "text")
    assert (tmp_path / name).read_text() == "text"
    with atomic_directory(tmp_path / name[:-4]) as folder:
        (folder / "f").write_text("x")
    assert (tmp_path / name[:-4] / "f").read_text() == "x"
    assert sorted(os.listdir(tmp_path)) == sorted([name, name[:-4]]), "no temporary file left"


def test_an_error_names_the_target_not_the_temporary_file(tmp_path):
    def fail(tmp):
        raise OSError(28, "No space left on device", str(tmp))

    with pytest.raises(OSError) as info:
        atomic_save(tmp_path / "edit.png", fail)
    assert info.value.filename == str(tmp_path / "edit.png")
    assert os.listdir(tmp_path) == []
