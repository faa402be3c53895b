"""Packed data sets (``textedit data pack``): the same data as their sources, read without
decoding or drawing, written atomically and resumably."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
import torch

from textedit.data.packed import PackedDataset, _CHUNK, pack_folder, pack_generated
from textedit.data.synthetic.data import SyntheticCaptionDataset, SyntheticSpec
from textedit.data.synthetic.grammar import parse
from textedit.data.synthetic.render import render
from textedit.errors import InputError

SPEC = SyntheticSpec(family="birds", n=40, seed=2)


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    out = tmp_path_factory.mktemp("packed") / "birds32"
    pack_generated(out, SPEC, image_size=32, edits_per_image=2)
    return out


@pytest.mark.parametrize("split", ["train", "test"])
def test_packed_generated_data_serves_what_the_renderer_draws(packed, split):
    drawn = SyntheticCaptionDataset(SPEC, split=split, image_size=32, seed=5, reword=0.5)
    read = PackedDataset(packed, split=split, image_size=32, seed=5, reword=0.5)
    assert len(read) == len(drawn)
    for epoch in (0, 1):
        drawn.set_epoch(epoch), read.set_epoch(epoch)
        for i in range(len(drawn)):
            a, b = drawn[i], read[i]
            assert torch.equal(a["image"], b["image"]), i
            for key in ("caption", "mismatched_caption", "flipped", "image_id"):
                assert a[key] == b[key], (i, key)
    assert read.build_vocabulary().words == drawn.build_vocabulary().words


def test_packed_true_edits_are_the_true_edits_of_their_descriptions(packed):
    read = PackedDataset(packed, split="train", true_edits=True, seed=1)
    flips = set()
    for i in range(len(read)):
        item = read[i]
        record = read.records[i]
        scene = SPEC.scene(int(record.image_id))
        before = render(scene, 32)
        after = render(scene.with_attributes(parse(item["mismatched_caption"], "birds")), 32)
        target = torch.from_numpy(after.image.copy()).permute(2, 0, 1).float() / 127.5 - 1
        if item["flipped"]:
            target = target.flip(-1)
        assert torch.equal(item["mismatched_target"], target), i
        assert item["mismatched_caption"] in read.edit_descriptions(i)
        assert item["mismatched_caption"] not in record.captions  # another image's caption
        weight = item["mismatched_weight"][0]
        assert weight.shape == (32, 32) and (weight >= 0).all()
        changed = not np.array_equal(before.image, after.image)
        assert (weight.sum() > 0) == changed or not changed
        flips.add(item["flipped"])
    assert flips == {True, False}


def test_interrupted_pack_resumes_where_it_stopped(tmp_path, monkeypatch):
    import textedit.data.packed as packed_module

    spec = SyntheticSpec(family="birds", n=2 * _CHUNK // 16, seed=0)
    monkeypatch.setattr(packed_module, "_CHUNK", 4)
    whole = tmp_path / "whole"
    pack_generated(whole, spec, image_size=16, edits_per_image=1)

    out = tmp_path / "parts"
    drawn = []
    original = packed_module._GeneratedSource.draw

    def dies_after_two_chunks(self, rows):
        if len(drawn) == 2:
            raise KeyboardInterrupt
        drawn.append(rows)
        return original(self, rows)

    monkeypatch.setattr(packed_module._GeneratedSource, "draw", dies_after_two_chunks)
    with pytest.raises(KeyboardInterrupt):
        pack_generated(out, spec, image_size=16, edits_per_image=1)
    assert not out.exists(), "an unfinished pack must not look like a data set"
    monkeypatch.setattr(packed_module._GeneratedSource, "draw", original)
    resumed = []
    pack_generated(out, spec, image_size=16, edits_per_image=1, progress=resumed.append)
    assert resumed[0] == 8, "the resumed run starts after the two finished chunks"
    for name in ("images", "edit_targets", "edit_weights"):
        assert np.array_equal(np.load(out / f"{name}.npy"), np.load(whole / f"{name}.npy")), name
    assert (out / "edits.jsonl").read_text() == (whole / "edits.jsonl").read_text()
    assert not list(tmp_path.glob(".*partial"))


def test_an_unfinished_pack_of_other_arguments_is_discarded_with_a_warning(tmp_path, monkeypatch):
    import textedit.data.packed as packed_module

    monkeypatch.setattr(packed_module, "_CHUNK", 4)
    original = packed_module._GeneratedSource.draw
    calls = []

    def dies_in_the_second_chunk(self, rows):
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, rows)

    spec = SyntheticSpec(family="birds", n=12, seed=0)
    monkeypatch.setattr(packed_module._GeneratedSource, "draw", dies_in_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        pack_generated(tmp_path / "p", spec, image_size=16, edits_per_image=2)
    monkeypatch.setattr(packed_module._GeneratedSource, "draw", original)
    with pytest.warns(UserWarning, match=r"unfinished pack in .*\(4 rows\) was made with other arguments \(edits_per_image\); it is discarded"):
        pack_generated(tmp_path / "p", spec, image_size=16, edits_per_image=1)


def test_a_pack_stopped_before_recording_a_chunk_resumes_with_aligned_descriptions(tmp_path, monkeypatch):
    """Ctrl-C after a chunk's descriptions were written but before its progress was: the
    resumed pack appended them again, shifting every later row's descriptions against its
    true edits (silently: the pack loaded)."""
    import textedit.data.packed as packed_module

    spec = SyntheticSpec(family="birds", n=24, seed=0)
    monkeypatch.setattr(packed_module, "_CHUNK", 4)
    pack_generated(tmp_path / "whole", spec, image_size=16, edits_per_image=1)
    original = packed_module.atomic_write_text

    def stopped_at_the_second_record(path, text, *args, **kwargs):
        if path.name == packed_module._PROGRESS and json.loads(text)["done"] == 8:
            raise KeyboardInterrupt
        return original(path, text, *args, **kwargs)

    monkeypatch.setattr(packed_module, "atomic_write_text", stopped_at_the_second_record)
    with pytest.raises(KeyboardInterrupt):
        pack_generated(tmp_path / "parts", spec, image_size=16, edits_per_image=1)
    monkeypatch.setattr(packed_module, "atomic_write_text", original)
    pack_generated(tmp_path / "parts", spec, image_size=16, edits_per_image=1)
    assert (tmp_path / "parts" / "edits.jsonl").read_text() == (tmp_path / "whole" / "edits.jsonl").read_text()


def test_workers_pack_the_same_arrays(tmp_path):
    spec = SyntheticSpec(family="flowers", n=10, seed=1)
    pack_generated(tmp_path / "a", spec, image_size=16, edits_per_image=1)
    pack_generated(tmp_path / "b", spec, image_size=16, edits_per_image=1, workers=2)
    for name in ("images", "edit_targets", "edit_weights"):
        assert np.array_equal(np.load(tmp_path / "a" / f"{name}.npy"), np.load(tmp_path / "b" / f"{name}.npy"))


def test_pack_a_folder_reads_like_the_folder(tmp_path, cub_root):
    from textedit.data.cub import CUBDataset

    out = tmp_path / "cub"
    manifest = pack_folder(out, cub_root, image_size=32)
    assert manifest["edits_per_image"] == 0 and not (out / "edits.jsonl").exists()
    for split in manifest["counts"]:
        source = CUBDataset(cub_root, split=split, image_size=32, train=False)
        read = PackedDataset(out, split=split, train=False)
        assert [r.image_id for r in read.records] == [r.image_id for r in source.records]
        assert [r.label for r in read.records] == [r.label for r in source.records]  # mismatches by class
        for i in range(len(source)):
            assert torch.equal(read[i]["image"], source[i]["image"])
            assert read[i]["caption"] == source[i]["caption"]


def test_an_image_listed_by_several_splits_is_packed_once(tmp_path, oxford_root):
    from textedit.data.oxford import Oxford102Dataset

    (oxford_root / "trainclasses.txt").write_text("class_00001\n")  # train = train_only + val
    (oxford_root / "valclasses.txt").write_text("class_00002\n")
    out = tmp_path / "packed"
    manifest = pack_folder(out, oxford_root, image_size=16)
    assert manifest["rows"] == 4 and np.load(out / "images.npy", mmap_mode="r").shape[0] == 4
    assert manifest["counts"] == {"train": 3, "test": 1, "train_only": 2, "val": 1}
    for split in manifest["counts"]:
        source = Oxford102Dataset(oxford_root, split=split, image_size=16, train=False)
        read = PackedDataset(out, split=split, train=False)
        assert [(r.image_id, r.label) for r in read.records] == [(r.image_id, r.label) for r in source.records]
        for i in range(len(source)):
            assert torch.equal(read[i]["image"], source[i]["image"])


def _pack_interrupted_after_one_chunk(monkeypatch, out, root, image_size):
    """Pack ``root`` in chunks of 2 rows, stopped (Ctrl-C) once the first chunk is packed."""
    import textedit.data.packed as packed_module

    monkeypatch.setattr(packed_module, "_CHUNK", 2)
    original, calls = packed_module._FolderSource.draw, []

    def dies_after_the_first_chunk(self, rows):
        if calls:
            raise KeyboardInterrupt
        calls.append(rows)
        return original(self, rows)

    monkeypatch.setattr(packed_module._FolderSource, "draw", dies_after_the_first_chunk)
    with pytest.raises(KeyboardInterrupt):
        pack_folder(out, root, image_size=image_size)
    monkeypatch.setattr(packed_module._FolderSource, "draw", original)


def test_unreadable_images_are_left_out_of_a_pack_and_stay_out_on_resume(tmp_path, cub_root, monkeypatch):
    from textedit.data.base import DataWarning
    from textedit.data.cub import CUBDataset

    images = sorted((cub_root / "CUB_200_2011" / "images").rglob("*.jpg"))
    images[1].write_bytes(b"not a jpeg")  # the second image of the first split
    out = tmp_path / "cub"
    _pack_interrupted_after_one_chunk(monkeypatch, out, cub_root, image_size=32)
    with pytest.warns(DataWarning, match=r"skipped 1 unreadable images of \d+; first: .*not an image PIL can read"):
        manifest = pack_folder(out, cub_root, image_size=32)  # resumed after the bad image's chunk
    assert [s["id"] for s in manifest["skipped"]] == [images[1].relative_to(images[1].parents[1]).with_suffix("").as_posix()]
    assert manifest["rows"] == sum(manifest["counts"].values()) + 1
    for split in manifest["counts"]:
        with pytest.warns(DataWarning) if split == "train" else contextlib.nullcontext():
            source = CUBDataset(cub_root, split=split, image_size=32, train=False)
            source.verify()
        read = PackedDataset(out, split=split, train=False)
        assert [r.image_id for r in read.records] == [r.image_id for r in source.records]
        assert [r.label for r in read.records] == [r.label for r in source.records]  # mismatches by class
        for i in range(len(source)):
            assert torch.equal(read[i]["image"], source[i]["image"])

    for image in images:
        image.write_bytes(b"")
    with pytest.raises(InputError, match="no image of .* could be read"):
        pack_folder(tmp_path / "none", cub_root, image_size=32)
    assert not list(tmp_path.glob(".none*")), "nothing to resume is left behind"


def test_a_version_1_pack_reads_its_rows_by_line(packed, tmp_path):
    import shutil

    old = tmp_path / "v1"
    shutil.copytree(packed, old)
    manifest = json.loads((old / "packed.json").read_text())
    del manifest["rows"], manifest["skipped"]
    (old / "packed.json").write_text(json.dumps({**manifest, "format_version": 1}))
    records = [json.loads(line) for line in (old / "records.jsonl").read_text().splitlines()]
    (old / "records.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "row"}) + "\n" for r in records))
    new, read = PackedDataset(packed, split="test", train=False), PackedDataset(old, split="test", train=False)
    assert [r.extras["row"] for r in read.records] == [r.extras["row"] for r in new.records]
    assert torch.equal(read[1]["image"], new[1]["image"])


def test_packed_errors_say_what_to_do(packed, tmp_path):
    with pytest.raises(InputError, match="packed at 32 px.*--size 64"):
        PackedDataset(packed, image_size=64)
    with pytest.raises(InputError, match="not a packed data set.*textedit data pack"):
        PackedDataset(tmp_path)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "packed.json").write_text(json.dumps({"format": "textedit-packed", "format_version": 99}))
    with pytest.raises(InputError, match="version 99.*pack the data set again"):
        PackedDataset(tmp_path / "old")
    with pytest.raises(InputError, match="already exists.*--overwrite"):
        pack_generated(packed, SPEC, image_size=32)
    images_only = tmp_path / "images_only"
    pack_generated(images_only, SyntheticSpec(n=4), image_size=16, edits_per_image=0)
    with pytest.raises(InputError, match="no true edits.*--edits-per-image"):
        PackedDataset(images_only, true_edits=True)


def test_a_damaged_pack_is_refused_when_opened(packed, tmp_path):
    import shutil

    for damage in ("images.npy", "edit_targets.npy", "records.jsonl", "records-line", "edits.jsonl"):
        copy = tmp_path / damage
        shutil.copytree(packed, copy)
        if damage == "records-line":  # cut at a line boundary: a subset, silently
            lines = (copy / "records.jsonl").read_text().splitlines(keepends=True)
            (copy / "records.jsonl").write_text("".join(lines[:-1]))
        else:
            data = (copy / damage).read_bytes()
            (copy / damage).write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match=r"(damaged|where packed.json counts).*pack the data set again"):
            PackedDataset(copy, split="train", true_edits=True)[0]


def test_packing_a_folder_names_what_is_wrong_with_it(packed, tmp_path):
    with pytest.raises(InputError, match="is a packed data set already"):
        pack_folder(tmp_path / "again", packed, image_size=16)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "captions.jsonl").write_text("not json\n")
    with pytest.raises(InputError, match=r"found nothing to pack: .*captions.jsonl:1 is not valid JSON"):
        pack_folder(tmp_path / "out", tmp_path / "bad", image_size=16)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(InputError, match="is a file; give a folder"):
        pack_generated(tmp_path / "a_file", SyntheticSpec(n=4), image_size=16, overwrite=True)
    with pytest.raises(InputError, match=r"needs [0-9.]+ GiB, and [0-9.]+ GiB is free .*smaller --size"):
        pack_generated(tmp_path / "huge", SyntheticSpec(n=4), image_size=10**6, edits_per_image=0)
    assert not list(tmp_path.glob(".huge*"))


def test_a_pack_reserves_its_arrays_so_a_full_disk_is_an_error_naming_the_file(tmp_path, monkeypatch):
    import errno
    import os

    from textedit.utils.sizes import format_bytes

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError, match="No space left on device") as info:
        pack_generated(tmp_path / "p", SyntheticSpec(n=4), image_size=16, edits_per_image=0)
    assert info.value.filename.endswith("images.npy")
    assert [format_bytes(1536), format_bytes(3 * 2**20), format_bytes(5 * 2**30)] == ["1.5 KiB", "3.0 MiB", "5.0 GiB"]


def test_overwrite_replaces_a_pack_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "pack"
    pack_generated(out, SyntheticSpec(n=4, seed=0), image_size=16, edits_per_image=0)
    first = np.load(out / "images.npy")
    pack_generated(out, SyntheticSpec(n=4, seed=1), image_size=16, edits_per_image=0, overwrite=True)
    assert not np.array_equal(np.load(out / "images.npy"), first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty and not a packed data set"):
        pack_generated(tmp_path / "other", SyntheticSpec(n=4), image_size=16, overwrite=True)


def test_images_smaller_than_the_pack_are_counted_across_a_resume_and_warned_of(tmp_path, oxford_root, monkeypatch):
    import warnings

    from PIL import Image

    from textedit.data.base import DataWarning

    images = sorted((oxford_root.parent / "jpg").glob("*.jpg"))
    big = 2 * max(max(Image.open(p).size) for p in images)
    Image.new("RGB", (3, 2), "red").save(images[-1])  # a thumbnail, in the last chunk
    _pack_interrupted_after_one_chunk(monkeypatch, tmp_path / "big", oxford_root, image_size=big)
    with pytest.warns(DataWarning, match="smaller than") as caught:
        manifest = pack_folder(tmp_path / "big", oxford_root, image_size=big)  # resumed
    n = manifest["rows"]
    message = str(caught[0].message)
    assert f"{n} of the {n} images are smaller than {big} x {big} pixels and were scaled up" in message
    assert "the smallest: 3 x 2" in message and "pack at a smaller --size" in message
    with pytest.warns(DataWarning, match=f"1 of the {n} images are smaller than 8 x 8"):
        pack_folder(tmp_path / "eight", oxford_root, image_size=8)
    Image.new("RGB", (30, 20), "red").save(images[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        pack_folder(tmp_path / "small", oxford_root, image_size=8)
