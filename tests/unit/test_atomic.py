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


_WRITER = """
import os, signal, sys
from textedit.utils.atomic import atomic_directory
with atomic_directory(sys.argv[1]) as tmp:
    (tmp / "part").write_bytes(b"x" * 4096)
    print(tmp, flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # "wait": until the test closes our stdin
"""


def _writer(target, how):
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), how],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    tmp = child.stdout.readline().strip()
    return child, tmp


@pytest.mark.skipif(os.name != "posix", reason="advisory locks are POSIX")
def test_a_killed_writers_temporary_directory_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "data"
    child, tmp = _writer(target, "kill")
    child.wait()
    assert os.path.isdir(tmp), "SIGKILL leaves the temporary directory behind"
    with pytest.warns(UserWarning, match="unfinished copy of .*data.* was killed"):
        with atomic_directory(target) as folder:
            (folder / "f").write_text("new")
    assert sorted(os.listdir(tmp_path)) == ["data"], "neither the directory nor its lock is left"
    assert (target / "f").read_text() == "new"


@pytest.mark.skipif(os.name != "posix", reason="advisory locks are POSIX")
def test_a_live_writers_temporary_directory_is_left_alone(tmp_path, recwarn):
    target = tmp_path / "data"
    child, tmp = _writer(target, "wait")
    try:
        with atomic_directory(target) as folder:
            (folder / "f").write_text("mine")
        assert os.path.isdir(tmp) and (target / "f").read_text() == "mine"
        assert not [w for w in recwarn if "unfinished" in str(w.message)]
    finally:
        child.communicate("")
    assert child.returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["data"]  # the other writer finished: its copy replaced mine


def test_a_temporary_directory_without_a_lock_is_left_alone(tmp_path):
    from textedit.utils.atomic import remove_abandoned

    old = tmp_path / ".data.tmp-0123abcd"  # as versions before the locks left them
    old.mkdir()
    assert remove_abandoned(tmp_path / "data") == []
    assert old.is_dir()


@pytest.mark.skipif(os.name != "posix", reason="advisory locks are POSIX")
def test_a_lock_without_its_directory_is_removed_once_it_is_old(tmp_path):
    from textedit.utils.atomic import remove_abandoned

    old, young = tmp_path / ".data.tmp-00000000.lock", tmp_path / ".data.tmp-11111111.lock"
    old.touch()
    young.touch()
    os.utime(old, (0, 0))
    remove_abandoned(tmp_path / "data")
    assert not old.exists() and young.exists()  # young: perhaps a writer about to make its directory


@pytest.mark.skipif(os.name != "posix", reason="advisory locks are POSIX")
def test_a_file_system_without_locks_still_gets_its_directory_written(tmp_path, monkeypatch):
    import errno

    import textedit.utils.atomic as atomic

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(atomic.fcntl, "flock", no_locks)
    with atomic_directory(tmp_path / "data") as folder:
        (folder / "f").write_text("x")
    assert sorted(os.listdir(tmp_path)) == ["data"]
