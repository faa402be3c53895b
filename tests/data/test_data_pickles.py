"""The restricted unpickler: plain data loads, anything else is refused before it runs."""

from __future__ import annotations

import collections
import os
import pickle

import numpy as np
import pytest

from textedit.data.pickles import UnsafePickleError, load_pickle, loads_pickle
from textedit.errors import InputError

from data_fixtures import py2_numpy_ints


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_plain_containers_load(protocol):
    data = [[1, 2, 3], {0: "<end>", 1: "bird"}, ("a", 1.5, None, True), {"x"}, frozenset({1}),
            b"bytes", 2j, collections.OrderedDict(a=1)]
    assert loads_pickle(pickle.dumps(data, protocol=protocol)) == data


def test_numpy_numbers_load():
    values = [np.int64(3), np.int32(200), np.float32(0.5)]
    assert loads_pickle(pickle.dumps(values, protocol=2)) == values
    arr = loads_pickle(pickle.dumps(np.arange(6).reshape(2, 3), protocol=2))
    assert arr.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_python2_class_info_loads():
    # ids >= 128 are what breaks a plain pickle.load in Python 3 (AttnGAN issue #15)
    assert [int(v) for v in loads_pickle(py2_numpy_ints([1, 128, 200]))] == [1, 128, 200]
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(py2_numpy_ints([128]))


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_reduce_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "captions.pickle"
    path.write_bytes(pickle.dumps([1, _Evil(marker)], protocol=2))
    with pytest.raises(UnsafePickleError, match=r"captions\.pickle.*(posix|nt|os)\.system"):
        load_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(collections.defaultdict(int)),
        pickle.dumps(np.array([object()], dtype=object)),
        b"cbuiltins\neval\n(S'1+1'\ntR.",
        b"c_codecs\nencode\n(X\x03\x00\x00\x00abcX\x04\x00\x00\x00zlibtR.",
    ],
    ids=["defaultdict", "object-array", "eval", "codec"],
)
def test_other_globals_are_refused(payload):
    with pytest.raises(UnsafePickleError):
        loads_pickle(payload)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_pickle(tmp_path / "nope.pickle")
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="bad.pickle"):
        load_pickle(bad)
