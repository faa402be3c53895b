"""Reading pickled metadata without running code from it.

``pickle.load`` will call any importable function a file names, so a data set downloaded
from a share could run anything. :class:`RestrictedUnpickler` refuses every global except
the few that plain data needs; lists, dicts, tuples, strings, bytes, numbers, booleans and
None use no global at all and always load.

What is admitted, and why:

* ``builtins.set``, ``frozenset``, ``complex``, ``collections.OrderedDict``: plain
  containers and numbers that older pickle protocols build by calling their class.
* ``_codecs.encode`` with the ``latin1`` codec only: protocol 2 written by Python 3 stores
  ``bytes`` as a call to it.
* numpy scalars and arrays of numbers (``numpy.core.multiarray.scalar``, ``numpy.dtype``,
  ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, and the ``numpy._core``
  spellings of numpy 2): the ``class_info.pickle`` files distributed with AttnGAN's and
  StackGAN's CUB and Oxford-102 metadata are Python 2 pickles of numpy integers (that is
  why AttnGAN loads them with ``encoding="bytes"``). Object arrays (``dtype('O')``) are
  refused, and the reconstructor accepts only ``numpy.ndarray`` itself.

``captions.pickle`` (lists of word ids and two dicts) and ``filenames.pickle`` (a list of
strings) need nothing from this list. ``collections.defaultdict`` appears in AttnGAN's
preprocessing code but is never pickled, so it is not admitted.
"""

from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

from textedit.errors import InputError

__all__ = ["RestrictedUnpickler", "load_pickle", "loads_pickle", "UnsafePickleError"]


class UnsafePickleError(InputError):
    """A pickle names a global that is not on the allow-list; nothing from it was run."""


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if encoding not in ("latin1", "latin-1", "iso-8859-1"):
        raise UnsafePickleError(f"_codecs.encode with codec {encoding!r} is not allowed")
    return text.encode("latin1", errors)


def _numpy(name: str) -> Any:
    import numpy as np

    if name == "dtype":
        def dtype(*args: Any, **kwargs: Any) -> Any:
            dt = np.dtype(*args, **kwargs)
            if dt.hasobject:
                raise UnsafePickleError("numpy arrays of Python objects are not allowed")
            return dt

        return dtype
    if name == "ndarray":
        return np.ndarray
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    if name == "scalar":
        def scalar(dtype: Any, data: Any = None) -> Any:
            if getattr(dtype, "hasobject", True):
                raise UnsafePickleError("numpy object scalars are not allowed")
            if isinstance(data, str):  # a Python 2 str read with encoding="latin1"
                data = data.encode("latin1")
            return multiarray.scalar(dtype, data)

        return scalar
    if name == "_reconstruct":
        def _reconstruct(cls: Any, shape: Any, dtype: Any) -> Any:
            if cls is not np.ndarray:
                raise UnsafePickleError("only plain numpy arrays are allowed")
            return multiarray._reconstruct(cls, shape, dtype)

        return _reconstruct
    raise KeyError(name)


_ALLOWED_BUILTINS = {"set": set, "frozenset": frozenset, "complex": complex}
_NUMPY_MODULES = {"numpy", "numpy.core.multiarray", "numpy._core.multiarray"}
_NUMPY_NAMES = {
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"scalar", "_reconstruct"},
    "numpy._core.multiarray": {"scalar", "_reconstruct"},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data only (see the module doc for what is admitted).

    Raises:
        UnsafePickleError: from :meth:`find_class`, for any other global; the message names
            it. Nothing named by the pickle is imported or called.
    """

    source = "<pickle>"

    def find_class(self, module: str, name: str) -> Any:
        if module in ("builtins", "__builtin__") and name in _ALLOWED_BUILTINS:
            return _ALLOWED_BUILTINS[name]
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "_codecs" and name == "encode":
            return _latin1_encode
        if module in _NUMPY_MODULES and name in _NUMPY_NAMES[module]:
            return _numpy(name)
        raise UnsafePickleError(
            f"{self.source} asks to load {module}.{name}, which is not plain data; textedit "
            f"reads metadata pickles with an allow-list (lists, dicts, strings, numbers, numpy "
            f"numbers) and refused it. If the file is the one the data set's authors "
            f"published, report it; otherwise replace it with a trusted copy"
        )


def loads_pickle(data: bytes, source: str = "<bytes>", encoding: str = "latin1") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`.

    ``encoding`` applies to Python 2 strings; ``latin1`` reads every byte string (and is
    what numpy arrays from Python 2 need). Use :func:`load_pickle` for files.
    """
    unpickler = RestrictedUnpickler(io.BytesIO(data), encoding=encoding)
    unpickler.source = source
    try:
        return unpickler.load()
    except UnsafePickleError as exc:
        if exc.args and not str(exc.args[0]).startswith(source):
            raise UnsafePickleError(f"{source} was refused: {exc}") from None
        raise
    except Exception as exc:
        raise InputError(
            f"{source} is not a readable pickle ({type(exc).__name__}: {exc}); re-download it"
        ) from None


def load_pickle(path: str | os.PathLike[str], encoding: str = "latin1") -> Any:
    """Read the pickle file ``path`` with :class:`RestrictedUnpickler`.

    Raises:
        InputError: the file is missing or is not a pickle.
        UnsafePickleError: it names a global that is not plain data.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist; check the data set's layout")
    return loads_pickle(path.read_bytes(), source=str(path), encoding=encoding)
