"""Atomic writes: a reader sees the old content or the new, never a half-written file.

Files are written to a temporary sibling, flushed to disk and renamed over the target
(``os.replace`` is atomic on POSIX and Windows within one file system). Directories are
built in a temporary sibling and swapped in: in one atomic exchange on Linux
(``renameat2(RENAME_EXCHANGE)``), elsewhere, or on a file system without it, with two renames
(between which the old directory is at ``.<name>.old-*``: see :func:`interrupted_replacement`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from textedit.utils.sizes import format_bytes

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so abandoned directories stay
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "atomic_directory",
    "atomic_save",
    "replace_directory",
    "interrupted_replacement",
    "remove_abandoned",
    "existing_ancestor",
]


def _default_mode() -> int:
    """Permissions of a newly created file under the current umask (mkstemp would give 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: bytes of the target's name kept in a temporary name: the name, a dot and a random part
#: must fit the 255-byte name limit of common file systems even when the target's does
_NAME_BYTES = 160


def _temp_stem(name: str) -> str:
    """``name`` cut to at most :data:`_NAME_BYTES` UTF-8 bytes (on a character boundary)."""
    return name.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")


@contextlib.contextmanager
def _name_the_target(tmp: Path | str | None, path: Path) -> Iterator[None]:
    """An ``OSError`` about the temporary file ``tmp``, or naming no file (a write to it: a
    full disk), names ``path``, the file the user asked for (``tmp`` None: the temporary
    file being created)."""
    try:
        yield
    except OSError as exc:
        if tmp is None or exc.filename is None or str(exc.filename) == str(tmp):
            exc.filename = str(path)
        raise


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every platform / file system
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _name_the_target(None, path):
        fd, tmp = tempfile.mkstemp(prefix=f".{_temp_stem(path.name)}.", suffix=".tmp", dir=path.parent)
    try:
        with _name_the_target(tmp, path), os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with _name_the_target(tmp, path):
            os.chmod(tmp, _default_mode())
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as handle:
        handle.write(text)


def atomic_save(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> None:
    """Atomically produce ``path`` with a ``writer(tmp_path)`` that writes a whole file.

    For libraries that want a file name rather than a handle (``safetensors``, ``PIL``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{_temp_stem(path.name)}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        with _name_the_target(tmp, path):
            writer(tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str], overwrite: bool = True) -> Iterator[Path]:
    """Yield an empty temporary directory that replaces ``target`` when the block succeeds.

    If the block raises, ``target`` is untouched and the temporary directory (named
    ``.<name>.tmp-*``) is removed. A process killed outright (SIGKILL, the OOM killer, a
    power cut) cannot remove it: each temporary directory is held under an advisory lock
    (``.<name>.tmp-*.lock`` beside it, released by the system when its process dies), and
    the next :func:`atomic_directory` of the same target removes those whose lock is free,
    with a warning. One still being written by a live process is left alone.

    Raises:
        FileExistsError: ``target`` exists and ``overwrite`` is False.
    """
    target = Path(os.path.abspath(target))  # "." and "x/.." have no name to put beside
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    where = existing_ancestor(target.parent)
    if not where.is_dir():
        raise NotADirectoryError(f"cannot create {target}: {where} is a file")
    remove_abandoned(target)
    tmp = target.with_name(f".{_temp_stem(target.name)}.tmp-{uuid.uuid4().hex[:8]}")
    with _name_the_target(tmp, target):
        target.parent.mkdir(parents=True, exist_ok=True)
        lock = _hold_lock(_lock_path(tmp))  # before the directory exists: see remove_abandoned
        try:
            tmp.mkdir()
        except BaseException:
            _release_lock(lock, _lock_path(tmp))
            raise
    try:
        yield tmp
        for root, _, files in os.walk(tmp):
            for name in files:
                with open(os.path.join(root, name), "rb+") as handle:
                    os.fsync(handle.fileno())
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _release_lock(lock, _lock_path(tmp))


def _lock_path(tmp: Path) -> Path:
    return tmp.with_name(tmp.name + ".lock")


def _hold_lock(path: Path) -> int | None:
    """Create ``path`` and hold an exclusive advisory lock on it until :func:`_release_lock`
    (or this process's death); None where the system or the file system has no such locks
    (the directory then has no lock file, and is never taken for an abandoned one)."""
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # ENOLCK and the like: some network file systems
            return None
        raise
    return fd


def _release_lock(fd: int | None, path: Path) -> None:
    # the directory goes first (the caller's), then the lock file: a process killed between
    # the two leaves an empty lock file and no directory, which remove_abandoned also clears
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if fd is not None:
        os.close(fd)


#: seconds after which a lock file without its directory is taken for a dead writer's
_LOCK_GRACE_S = 60.0


def _free(lock: Path) -> bool:
    """Whether no live process holds ``lock`` (taken and released at once to find out)."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def remove_abandoned(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary directories of :func:`atomic_directory` for ``target`` whose
    process died before finishing (their lock is free); warn, and return what was removed.

    A temporary directory without a lock file (left by a version of textedit before the
    locks) is left alone: nothing says that its writer is gone.
    """
    target = Path(os.path.abspath(target))
    if fcntl is None or not target.parent.is_dir():
        return []
    removed = []
    for tmp in target.parent.glob(glob.escape(f".{_temp_stem(target.name)}") + ".tmp-*"):
        if tmp.suffix == ".lock":
            # a lock whose directory is gone (killed between the two removals); a young
            # one may be a writer's between creating its lock and its directory
            with contextlib.suppress(OSError):
                young = time.time() - tmp.stat().st_mtime < _LOCK_GRACE_S
                if not young and not tmp.with_suffix("").exists() and _free(tmp):
                    tmp.unlink()
            continue
        if not tmp.is_dir() or not _free(_lock_path(tmp)):
            continue
        size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            _lock_path(tmp).unlink()
        removed.append(tmp)
        warnings.warn(
            f"removed {tmp} ({format_bytes(size)}): an unfinished copy of {target} whose process "
            f"was killed before it could clean up", stacklevel=2,
        )
    return removed


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one atomic step; False where the system cannot
    (not Linux, an old C library, a file system without exchange)."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def replace_directory(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Move the finished directory ``source`` to ``target``, replacing what is there: a
    reader finds the old directory or the new one. On Linux the two are exchanged in one
    step; elsewhere the old one is renamed aside first (``.<name>.old-*``), so a process
    killed between the two renames leaves it there (:func:`interrupted_replacement`)."""
    source, target = Path(os.path.abspath(source)), Path(os.path.abspath(target))
    if not target.exists():
        os.replace(source, target)
    elif _exchange(source, target):
        _remove_replaced(source, target)
    else:
        backup = target.with_name(f".{_temp_stem(target.name)}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, backup)
        os.replace(source, target)
        _remove_replaced(backup, target)
    _fsync_dir(target.parent)


def _remove_replaced(old: Path, target: Path) -> None:
    try:
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    except OSError as exc:
        warnings.warn(f"{target} was replaced, but its previous content could not be deleted from {old} ({exc}); "
                      f"delete it by hand", stacklevel=3)


def interrupted_replacement(target: str | os.PathLike[str]) -> Path | None:
    """The previous content of ``target`` left aside by a replacement that was killed
    between its two renames (systems without an atomic exchange), the newest when there are
    several, or None."""
    target = Path(os.path.abspath(target))
    if not target.parent.is_dir():
        return None
    aside = list(target.parent.glob(glob.escape(f".{_temp_stem(target.name)}") + ".old-*"))
    return max(aside, key=lambda p: p.stat().st_mtime_ns, default=None)


def existing_ancestor(path: str | os.PathLike[str]) -> Path:
    """``path`` itself when it exists, else its nearest parent that does (where it would be
    created: the place to check for permission or free space)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
