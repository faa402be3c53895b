"""``textedit data``: generate end to end, read it back, info and convert."""

from __future__ import annotations

import json

import numpy as np
import pytest

import torch

from data_fixtures import write_image
from textedit.cli import main
from textedit.data import FolderDataset
from textedit.data.base import DataWarning
from textedit.data.convert import convert_celeba, convert_deepfashion
from textedit.data.images import tensor_to_pil
from textedit.data.synthetic import (
    FolderEditPairs,
    SyntheticCaptionDataset,
    SyntheticEditPairs,
    SyntheticSpec,
    generate_dataset,
    load_scenes,
    render,
)
from textedit.errors import InputError


def test_generate_then_load_like_real_data(tmp_path, capsys):
    out = tmp_path / "birds"
    rc = main(["data", "generate", "--family", "birds", "--n", "12", "--out", str(out), "--size", "64",
               "--seed", "5", "--test-fraction", "0.25", "--edits-per-image", "2",
               "--captions-per-image", "4", "--quiet"])
    assert rc == 0 and "9 train + 3 test images, 6 edit pairs" in capsys.readouterr().out
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["family"] == "birds" and manifest["image_size"] == 64
    assert manifest["counts"] == {"train": 9, "test": 3, "edits": 6}
    assert manifest["parts"] == ["head", "body", "belly", "wings", "tail", "beak"]

    spec = SyntheticSpec("birds", n=12, seed=5, test_fraction=0.25, captions_per_image=4, edits_per_image=2)
    train = FolderDataset(out, "train", 64, train=False)
    fly = SyntheticCaptionDataset(spec, "train", 64, train=False)
    assert len(train) == 9 and train.records[0].captions == fly.records[0].captions
    for i in (0, 8):
        assert torch.equal(train[i]["image"], fly[i]["image"])
    assert len(train.build_vocabulary()) > 20

    scenes = load_scenes(out)  # any image can be re-drawn from its scene
    last = FolderDataset(out, "test", 64, train=False)[2]
    assert last["image_id"] == "000011"
    assert np.array_equal(render(scenes["000011"], 64).image, np.asarray(tensor_to_pil(last["image"])))

    disk, live = FolderEditPairs(out), SyntheticEditPairs(spec, image_size=64)
    assert len(disk) == len(live) == 6
    for i in range(len(disk)):
        a, b = disk[i], live[i]
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) else a[k] == b[k], k
        outside = a["edit_mask"][0] == 0
        assert torch.equal(a["image"][:, outside], a["target"][:, outside])
        assert a["changed_parts"], "edit descriptions are drawn until they change something"
    batch = next(iter(torch.utils.data.DataLoader(disk, batch_size=3)))
    assert batch["part_masks"].shape == (3, 6, 64, 64) and len(batch["requested"]) == 3

    assert main(["data", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["splits"]["train"]["images"] == 9 and info["edit_pairs"] == 6


def test_generate_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "d"
    args = ["data", "generate", "--family", "flowers", "--n", "3", "--out", str(out), "--size", "64", "--quiet"]
    assert main(args) == 0
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--seed", "1"]) == 0
    assert json.loads((out / "dataset.json").read_text())["seed"] == 1
    other = tmp_path / "mine"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    assert main([*args[:6], "--out", str(other), "--size", "64", "--overwrite", "--quiet"]) == 2
    assert (other / "precious.txt").read_text() == "keep me"


def test_odd_inputs_get_messages_not_tracebacks(tmp_path, capsys):
    assert main(["data", "generate", "--family", "birds", "--n", "3", "--seed", "-1", "--out", str(tmp_path / "d")]) == 2
    assert "seed must be at least 0" in capsys.readouterr().err and not (tmp_path / "d").exists()
    empty = tmp_path / "empty_captions"
    write_image(empty / "images" / "a.png")
    (empty / "captions.jsonl").write_text(json.dumps({"image": "images/a.png", "captions": []}) + "\n")
    assert main(["data", "info", str(empty)]) == 2
    assert "holds no image with a caption" in capsys.readouterr().err
    assert main(["data", "convert"]) == 2  # no source: the help of convert, which lists them
    assert "celeba" in capsys.readouterr().out


def test_interrupted_generation_leaves_nothing_that_loads(tmp_path):
    out = tmp_path / "d"

    def crash(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate_dataset(out, SyntheticSpec("birds", n=4), 64, progress=crash)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_sigterm_stops_a_pack_as_ctrl_c_does_and_the_same_command_resumes(tmp_path, monkeypatch, capsys):
    """A scheduler's SIGTERM: the rows packed so far are kept, the message says how to go on."""
    import os
    import signal

    import textedit.data.packed as packed_module

    monkeypatch.setattr(packed_module, "_CHUNK", 4)
    original, drawn = packed_module._GeneratedSource.draw, []

    def terminated_in_the_second_chunk(self, rows):
        drawn.append(rows)
        if len(drawn) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, rows)

    monkeypatch.setattr(packed_module._GeneratedSource, "draw", terminated_in_the_second_chunk)
    command = ["data", "pack", "--family", "birds", "--n", "12", "--size", "16", "--out", str(tmp_path / "p"), "--quiet"]
    assert main(command) == 130
    err = capsys.readouterr().err
    assert "the rows packed so far are kept; run the same command again to continue" in err
    assert not (tmp_path / "p").exists() and list(tmp_path.glob(".p*partial"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the handler is the command's only"
    monkeypatch.setattr(packed_module._GeneratedSource, "draw", original)
    assert main(command) == 0 and (tmp_path / "p" / "images.npy").is_file()


def test_pack_from_a_folder_refuses_the_generated_only_options(tmp_path, capsys, cub_root):
    assert main(["data", "pack", "--from", str(cub_root), "--edits-per-image", "3", "--n", "5",
                 "--out", str(tmp_path / "p"), "--quiet"]) == 2
    assert "--n, --edits-per-image describe generated data (--family)" in capsys.readouterr().err
    assert main(["data", "pack", "--family", "birds", "--n", "4", "--workers", "-1", "--out", str(tmp_path / "p")]) == 2
    assert not (tmp_path / "p").exists()


def test_a_full_disk_while_generating_names_the_output(tmp_path, monkeypatch, capsys):
    import errno

    import textedit.data.synthetic.writer as writer

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "write_image", full)
    assert main(["data", "generate", "--family", "birds", "--n", "2", "--out", str(tmp_path / "g"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"cannot read or write {tmp_path / 'g'} (the unfinished data set was removed): No space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_generate_refuses_early_a_set_that_will_not_fit_on_the_disk(tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple

    import textedit.data.synthetic.writer as writer

    monkeypatch.setattr(writer, "_ESTIMATE_AFTER", 2)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 50_000, 50_000))
    drawn = []
    monkeypatch.setattr(writer, "write_image", lambda *a, _w=writer.write_image: drawn.append(1) or _w(*a))
    command = ["data", "generate", "--family", "birds", "--n", "1000", "--size", "64", "--out", str(tmp_path / "g"), "--quiet"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "1000 images at this size need about" in err and "48.8 KiB is free where" in err
    assert "draw fewer (--n)" in err and len(drawn) == 2, "stopped after the images it measured"
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 0, 10**12))
    assert main([a if a != "1000" else "4" for a in command]) == 0  # enough room


def test_info_on_real_layouts(cub_root, oxford_root, capsys):
    assert main(["data", "info", str(cub_root)]) == 0
    text = capsys.readouterr().out
    assert "cub layout" in text and "train" in text and "vocabulary" in text
    assert main(["data", "info", str(oxford_root), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["layout"] == "oxford102" and info["splits"]["test"]["images"] == 1


def test_info_names_the_missing_images(cub_root, capsys):
    images = cub_root / "CUB_200_2011" / "images"
    missing = next(images.rglob("*.jpg"))
    missing.unlink()
    assert main(["data", "info", str(cub_root)]) == 0
    assert f"warning: CUB-200-2011 ({cub_root}): skipped 1 of" in capsys.readouterr().err
    # every image of the test split gone: the other splits are still described
    from data_fixtures import CUB_FILES

    for key in CUB_FILES["test"]:
        (images / f"{key}.jpg").unlink(missing_ok=True)
    assert main(["data", "info", str(cub_root)]) == 0
    out = capsys.readouterr().out
    assert "test       unusable: " in out and "every image of split 'test' is missing" in out and "train " in out
    for path in list(images.rglob("*.jpg")):
        path.unlink()
    assert main(["data", "info", str(cub_root)]) == 2
    err = capsys.readouterr().err
    assert "every image of split 'train' is missing (" in err and str(images) in err


def test_convert_celeba_text2facegan(tmp_path, capsys):
    images = tmp_path / "img_align_celeba"
    for name in ("000001.jpg", "000002.jpg", "000003.jpg"):
        write_image(images / name, size=(178, 218))
    caps = tmp_path / "caps.txt"
    caps.write_text(
        "000001.jpg\tThe woman has high cheekbones.|Her hair is brown in colour.|She is smiling.\n"
        "000002.jpg\tThe man has a big nose.\n"
        "000003.jpg\tThe woman is young.|She is wearing lipstick.\n"
    )
    partition = tmp_path / "list_eval_partition.txt"
    partition.write_text("000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n")
    out = tmp_path / "celeba"
    assert main(["data", "convert", "celeba", "--captions", str(caps), "--images", str(images),
                 "--partition", str(partition), "--out", str(out)]) == 0
    train = FolderDataset(out, "train", 32)
    assert train.records[0].captions == (
        "The woman has high cheekbones. Her hair is brown in colour. She is smiling.",
    )
    assert FolderDataset(out, "test", 32)[0]["image"].shape == (3, 32, 32)
    assert FolderDataset(out, "val", 32).records[0].image_id == "000002"
    assert main(["data", "convert", "celeba", "--captions", str(caps), "--images", str(images),
                 "--out", str(out), "--sentences", "each"]) == 2
    assert main(["data", "convert", "celeba", "--captions", str(caps), "--images", str(images),
                 "--out", str(out), "--sentences", "each", "--overwrite"]) == 0
    assert len(FolderDataset(out, "train", 32).records[0].captions) == 3

    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(InputError, match="is not a folder; give CelebA's image folder"):
        convert_celeba(caps, tmp_path / "missing", elsewhere)
    with pytest.raises(InputError, match="none of the 3 images caps.txt names is in .*right folder"):
        convert_celeba(caps, tmp_path, elsewhere)
    assert not elsewhere.exists(), "a refused conversion writes nothing"
    # Excel's byte-order mark is read; another encoding is refused with what to do
    bom = tmp_path / "caps_bom.txt"
    bom.write_text("\ufeff" + caps.read_text(), encoding="utf-8")
    convert_celeba(bom, images, tmp_path / "bom", partition_file=partition)
    assert FolderDataset(tmp_path / "bom", "train", 32).records[0].image_id == "000001"
    latin = tmp_path / "caps_latin1.txt"
    latin.write_bytes("000001.jpg\tShe is tr\u00e8s happy.\n".encode("latin-1"))
    with pytest.raises(InputError, match="caps_latin1.txt is not UTF-8 text .*save it as UTF-8"):
        convert_celeba(latin, images, tmp_path / "latin")
    # a partition file that misses images puts them in train, saying so; one that lists none
    # of them (another naming) is refused
    partition.write_text("000001.jpg 0\n000003.jpg 2\n")
    with pytest.warns(DataWarning, match="1 of the 3 images caps.txt names are not in list_eval_partition.txt .*000002.*'train'"):
        convert_celeba(caps, images, tmp_path / "unlisted", partition_file=partition)
    partition.write_text("1.png 0\n")
    with pytest.raises(InputError, match="none of the 3 images caps.txt names is in .*list_eval_partition.txt .*lists 1.png"):
        convert_celeba(caps, images, elsewhere, partition_file=partition)
    (images / "000002.jpg").unlink()
    with pytest.warns(DataWarning, match="1 of the 3 images caps.txt names are missing .*000002.jpg"):
        convert_celeba(caps, images, elsewhere)


def _cell(strings):
    cell = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        cell[i, 0] = np.array([s])
    return cell


def test_convert_deepfashion_fashiongan(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    root = tmp_path / "inshop"
    names = ["img/WOMEN/Dresses/id_00000002/02_1_front.jpg", "img/MEN/Denim/id_00000080/01_1_front.jpg",
             "img/WOMEN/Blouses_Shirts/id_00000001/02_2_side.jpg"]
    for n in names:
        write_image(root / n, size=(64, 64))
    sentences = ["the lady was wearing a blue long-sleeved blouse",
                 "his tank top was grey", "a woman in a white dress"]
    lang, ind = tmp_path / "language_original.mat", tmp_path / "ind.mat"
    scipy_io.savemat(lang, {"engJ": _cell(sentences), "nameList": _cell(names),
                            "color_": np.array([[1], [2], [3]])})
    scipy_io.savemat(ind, {"train_ind": np.array([[1], [3]]), "test_ind": np.array([[2]])})
    out = tmp_path / "fashion"
    assert main(["data", "convert", "deepfashion", "--language", str(lang), "--index", str(ind),
                 "--images", str(root), "--out", str(out)]) == 0
    train = FolderDataset(out, "train", 32)
    assert [r.captions[0] for r in train.records] == [sentences[0], sentences[2]]
    test = FolderDataset(out, "test", 32)
    assert test.records[0].captions == (sentences[1],) and test[0]["image"].shape == (3, 32, 32)
    # an image in both splits is tested, never trained on; one in neither is left out
    scipy_io.savemat(ind, {"train_ind": np.array([[1], [3]]), "test_ind": np.array([[2], [3]])})
    with pytest.warns(DataWarning, match="1 images are in both train_ind and test_ind of ind.mat .*3, .*02_2_side.jpg.*'test' only"):
        manifest = convert_deepfashion(lang, ind, root, tmp_path / "f3")
    assert manifest["counts"] == {"train": 1, "test": 2}
    scipy_io.savemat(ind, {"train_ind": np.array([[1]]), "test_ind": np.array([[2]])})
    with pytest.warns(DataWarning, match="1 of the 3 described images are in neither train_ind nor test_ind of ind.mat"):
        manifest = convert_deepfashion(lang, ind, root, tmp_path / "f3", overwrite=True)
    assert manifest["counts"] == {"train": 1, "test": 1}
    (tmp_path / "truncated.mat").write_bytes(lang.read_bytes()[:100])
    assert main(["data", "convert", "deepfashion", "--language", str(tmp_path / "truncated.mat"), "--index",
                 str(ind), "--images", str(root), "--out", str(tmp_path / "f2")]) == 2


def test_pack_from_the_command_line_then_describe_it(tmp_path, capsys, cub_root):
    out = tmp_path / "birds16"
    rc = main(["data", "pack", "--family", "birds", "--n", "12", "--size", "16", "--edits-per-image", "1",
               "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0 and "11 train, 1 test images at 16 px, 1 true edits per image" in printed
    assert f"data.type=packed data.root={out}" in printed
    assert main(["data", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "(packed layout)" in info and "packed at 16 px, 1 true edits per image, from generated data" in info
    cub = tmp_path / "cub16"
    next((cub_root / "CUB_200_2011" / "images").rglob("*.jpg")).write_bytes(b"")  # packed without it
    with pytest.warns(UserWarning, match="skipped 1 unreadable images"):
        assert main(["data", "pack", "--from", str(cub_root), "--size", "16", "--out", str(cub), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["data", "info", str(cub)]) == 0
    assert f"from the folder {cub_root} (cub layout) (1 unreadable images left out)" in capsys.readouterr().out
    assert main(["data", "info", str(cub), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["layout"] == "packed" and described["packed"]["source"]["layout"] == "cub"
    assert described["packed"]["edits_per_image"] == 0 and described["packed"]["unreadable"] == 1
