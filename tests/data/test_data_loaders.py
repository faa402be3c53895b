"""Real-data loaders on fixtures in the published layouts, and the generic folder layout."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from data_fixtures import CUB_BOX, CUB_FILES, _captions, write_image
from textedit.data import CUBDataset, DataWarning, FolderDataset, Oxford102Dataset, detect_layout, open_dataset
from textedit.data.cub import cub_crop_box, read_cub
from textedit.errors import InputError


# ---------------------------------------------------------------- CUB (AttnGAN layout)


def test_cub_splits_captions_and_classes(cub_root):
    train = CUBDataset(cub_root, "train", 64)
    test = CUBDataset(cub_root, "test", 64)
    assert [r.image_id for r in train.records] == CUB_FILES["train"]
    assert [r.image_id for r in test.records] == CUB_FILES["test"]
    assert [r.label for r in train.records] == [1, 1, 2]
    assert len(train.records[0].captions) == 10
    assert train.records[0].captions[3] == "this black footed albatross number 3 has a white belly and dark wings"
    item = train[0]
    assert item["image"].shape == (3, 64, 64) and item["caption"] in train.records[0].captions
    # mismatched captions come from another class
    assert "laysan" in train.mismatched_caption(0)
    assert len(train.captions("train")) == 30 and len(train.captions("test")) == 10
    assert open_dataset(cub_root, "test", 64).records == test.records


def test_cub_captions_from_pickle_match_the_text_files(cub_root):
    from_text = read_cub(cub_root, "text")
    from_pickle = read_cub(cub_root, "pickle")
    assert [r.captions for r in from_text] == [r.captions for r in from_pickle]


def test_cub_vocabulary_from_training_captions(cub_root):
    vocab = CUBDataset(cub_root, "train", 64).build_vocabulary()
    assert "laysan" in vocab and "albatross" in vocab
    assert len(vocab) == 2 + len({w for c in CUBDataset(cub_root, "train", 64).captions() for w in c.split()})


def test_cub_bbox_crop_is_attngan_s(cub_root):
    # r = int(max(40, 30) * 0.75) = 30 around the box centre (50, 35), clipped to 100 x 80
    assert cub_crop_box(CUB_BOX, 100, 80) == (20, 5, 80, 65)
    assert cub_crop_box((0, 0, 40, 40), 100, 80) == (0, 0, 50, 50)
    ds = CUBDataset(cub_root, "train", 64, train=False)
    crop = ds.read_image(0)
    assert crop.size == (60, 60)
    arr = np.asarray(crop).astype(int)
    assert arr[30, 30, 0] > 180 and arr[30, 30, 1] < 80  # the bird box is in the middle
    assert arr[2, 2, 0] < 160  # the corner is background
    uncropped = CUBDataset(cub_root, "train", 64, crop=False, train=False).read_image(0)
    assert uncropped.size == (100, 80)


def test_cub_boxes_outside_the_image_or_empty_keep_the_whole_image(cub_root):
    boxes = cub_root / "CUB_200_2011" / "bounding_boxes.txt"
    lines = boxes.read_text().splitlines()
    for box in ("400 300 50 40", "0 0 0 0"):  # outside a 100 x 80 image; zero-sized
        lines[0] = f"1 {box}"
        boxes.write_text("\n".join(lines) + "\n")
        assert CUBDataset(cub_root, "train", 64, train=False).read_image(0).size == (100, 80), box
    (cub_root / "train" / "class_info.pickle").write_bytes(pickle.dumps(7))
    with pytest.raises(InputError, match=r"does not hold a list of class ids \(it holds: int\)"):
        CUBDataset(cub_root, "train", 64)
    names = cub_root / "CUB_200_2011" / "images.txt"
    names.write_text("1\n" + names.read_text())
    with pytest.raises(InputError, match=r"images\.txt:1: expected '<image id> <file name>'"):
        CUBDataset(cub_root, "train", 64)


def test_cub_missing_metadata_is_named(cub_root):
    (cub_root / "test" / "filenames.pickle").unlink()
    with pytest.raises(InputError, match=r"test/filenames\.pickle"):
        CUBDataset(cub_root, "train", 64)


def test_cub_layout_mistakes_are_named(cub_root):
    import shutil

    with pytest.raises(InputError, match=r"not AttnGAN's CUB folder .*give the folder above it"):
        CUBDataset(cub_root / "CUB_200_2011", "train", 32)
    (cub_root / "CUB_200_2011" / "bounding_boxes.txt").unlink()
    with pytest.warns(DataWarning, match="no bird boxes .*not cropped"):
        CUBDataset(cub_root, "train", 32)
    archive = cub_root / "CUB_200_2011"
    shutil.move(archive, cub_root / "unpacked")
    archive.mkdir()
    shutil.move(cub_root / "unpacked", archive / "CUB_200_2011")
    with pytest.raises(InputError, match="unpacked one level too deep"):
        CUBDataset(cub_root, "train", 32)


# ---------------------------------------------------------------- Oxford-102 (Reed layout)


def test_oxford_class_splits(oxford_root):
    train = Oxford102Dataset(oxford_root, "train", 32)
    test = Oxford102Dataset(oxford_root, "test", 32)
    assert sorted(r.image_id for r in train.records) == ["image_05087", "image_06734", "image_06735"]
    assert [r.image_id for r in test.records] == ["image_06001"]
    assert {r.label for r in train.records} == {1, 2}
    assert test[0]["image"].shape == (3, 32, 32)
    assert train.records[0].captions[0].startswith("this flower of class_0000")
    assert open_dataset(oxford_root, "test", 32).records == test.records
    with pytest.raises(InputError, match="splits present"):
        Oxford102Dataset(oxford_root, "validation", 32)


def test_oxford_needs_images(oxford_root):
    import shutil

    from textedit.data.oxford import read_oxford102

    shutil.rmtree(oxford_root.parent / "jpg")
    with pytest.raises(InputError, match="jpg"):
        read_oxford102(oxford_root)


def test_oxford_from_the_folder_holding_the_captions_past_reeds_feature_folder(oxford_root):
    (oxford_root / "images").mkdir()
    (oxford_root / "images" / "class_00001.t7").write_bytes(b"torch7 features")  # Reed's archive has these
    parent = oxford_root.parent  # flowers/ holding cvpr2016_flowers/ and jpg/
    assert detect_layout(parent) == "oxford102"
    test = open_dataset(parent, "test", 32)
    assert test.records == Oxford102Dataset(oxford_root, "test", 32).records
    assert test.records[0].path == parent / "jpg" / "image_06001.jpg" and test[0]["image"].shape == (3, 32, 32)


def test_reeds_cub_captions_read_the_cub_images_cropped_to_the_bird(tmp_path, cub_root):
    # cvpr2016_cub (Reed et al.) beside the CUB archive: class folders, nested images, boxes
    root = tmp_path / "cvpr2016_cub"
    classes = {}
    for key in CUB_FILES["train"] + CUB_FILES["test"]:
        cls, image = key.split("/")
        classes.setdefault(cls, []).append(image)
        (root / "text_c10" / cls).mkdir(parents=True, exist_ok=True)
        (root / "text_c10" / cls / f"{image}.txt").write_text("\n".join(_captions(key)) + "\n")
    names = sorted(classes)
    (root / "trainvalclasses.txt").write_text("\n".join(names[:-1]) + "\n")
    (root / "testclasses.txt").write_text(names[-1] + "\n")
    import shutil

    shutil.copytree(cub_root / "CUB_200_2011", tmp_path / "CUB_200_2011")
    assert detect_layout(root) == "oxford102"
    reed = open_dataset(root, "train", 32, train=False)
    attngan = CUBDataset(cub_root, "train", 32, train=False)
    assert all(r.path.parent.parent == tmp_path / "CUB_200_2011" / "images" for r in reed.records)
    assert {r.label for r in reed.records} == {int(n.split(".")[0]) for n in names[:-1]}
    first = next(i for i, r in enumerate(attngan.records) if r.image_id == reed.records[0].path.relative_to(
        tmp_path / "CUB_200_2011" / "images").with_suffix("").as_posix())
    assert reed.read_image(0).size == attngan.read_image(first).size  # the same crop to the bird
    assert torch.equal(reed[0]["image"], attngan[first]["image"])


def test_reed_layout_without_images_names_where_it_looked(oxford_root):
    import shutil

    shutil.rmtree(oxford_root.parent / "jpg")
    with pytest.raises(InputError, match=r"cannot find the images .*image_0\d+\.jpg in: .*jpg.*CUB_200_2011.*image_dir"):
        Oxford102Dataset(oxford_root, "train", 32)


# ---------------------------------------------------------------- generic layout


def _folder_jsonl(root, n=4):
    lines = []
    for i in range(n):
        write_image(root / "images" / f"{i}.png", size=(40, 30), colour=(10 * i, 0, 0))
        lines.append({"image": f"images/{i}.png", "captions": [f"caption {i} a", f"caption {i} b"],
                      "split": "test" if i == n - 1 else "train"})
    (root / "captions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return root


def test_folder_jsonl(tmp_path):
    ds = FolderDataset(_folder_jsonl(tmp_path), "train", 16)
    assert len(ds) == 3 and ds.splits == ["train", "test"]
    assert ds.records[1].captions == ("caption 1 a", "caption 1 b")
    assert ds[1]["image"].shape == (3, 16, 16)


def test_folder_csv(tmp_path):
    write_image(tmp_path / "a.jpg")
    write_image(tmp_path / "b.jpg")
    (tmp_path / "captions.csv").write_text(
        'image,caption,split\na.jpg,"a red bird, small",train\na.jpg,another,train\nb.jpg,x,test\n'
    )
    ds = FolderDataset(tmp_path, "train", 16)
    assert ds.records[0].captions == ("a red bird, small", "another")
    assert FolderDataset(tmp_path, "test", 16).records[0].image_id == "b"


def test_folder_sidecar_text_files(tmp_path):
    write_image(tmp_path / "train" / "x" / "one.png")
    (tmp_path / "train" / "x" / "one.txt").write_text("first\n\nsecond\n")
    write_image(tmp_path / "test" / "two.png")
    (tmp_path / "test" / "two.txt").write_text("third\n")
    write_image(tmp_path / "test" / "uncaptioned.png")
    with pytest.warns(DataWarning, match="no .txt"):
        train = FolderDataset(tmp_path, "train", 16)
    assert train.records[0].captions == ("first", "second")
    assert train.records[0].image_id == "train/x/one"
    (tmp_path / "test" / "two.txt").write_text("\ufeffthird, with a BOM\n", encoding="utf-8")
    assert FolderDataset(tmp_path, "test", 16).records[0].captions == ("third, with a BOM",)
    (tmp_path / "test" / "two.txt").write_bytes("un oiseau br\u00fbl\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"two.txt is not UTF-8 text .*save it as UTF-8"):
        FolderDataset(tmp_path, "test", 16)


@pytest.mark.parametrize(
    "content, message",
    [('{"image": 3}\n', "captions.jsonl:1"), ("not json\n", "captions.jsonl:1"),
     ('{"image": "a.png", "captions": [1]}\n', "captions"),
     ('{"image": "a.png", "caption": "x", "id": [1]}\n', r'captions.jsonl:1: "id" must be'),
     ('{"image": "a.png", "caption": "un caf\u00e9"}\n'.encode("latin-1"), "not UTF-8 text"),
     ('{"image": "a.png", "caption": "x", "split": "train"}\n{"image": "a.jpg", "caption": "y", "split": "test"}\n',
      "a.png and a.jpg are both image 'a': one name"),
     ('{"image": "a.png", "caption": "x", "split": "train"}\n{"image": "a.png", "caption": "y", "split": "test"}\n',
      "image 'a' is listed in split 'train' and in split 'test'")],
)
def test_folder_malformed_jsonl(tmp_path, content, message):
    path = tmp_path / "captions.jsonl"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(InputError, match=message):
        FolderDataset(tmp_path)


def test_folder_csv_from_excel_and_its_mistakes(tmp_path):
    write_image(tmp_path / "a.jpg")
    (tmp_path / "captions.csv").write_text('\ufeffimage,caption\na.jpg,"two\nlines"\n', encoding="utf-8")
    assert FolderDataset(tmp_path, "train", 16).records[0].captions == ("two\nlines",)  # BOM read, quotes kept
    (tmp_path / "captions.csv").write_text("image,caption\n,a bird\n")
    with pytest.raises(InputError, match=r"captions.csv:2: the 'image' column is empty"):
        FolderDataset(tmp_path)
    (tmp_path / "captions.csv").write_text("image,caption\na.jpg,caf\u00e9\n", encoding="utf-16")
    with pytest.raises(InputError, match="not UTF-8 text"):
        FolderDataset(tmp_path)


def test_folder_without_captions(tmp_path):
    with pytest.raises(InputError, match="no captioned images"):
        FolderDataset(tmp_path)


# ---------------------------------------------------------------- missing and corrupt images


def test_missing_images_skipped_with_one_warning_and_count(tmp_path):
    root = _folder_jsonl(tmp_path, n=5)
    (root / "images" / "1.png").unlink()
    (root / "images" / "2.png").unlink()
    with pytest.warns(DataWarning, match=r"skipped 2 of 4 images.*1\.png"):
        ds = FolderDataset(root, "train", 16)
    assert len(ds) == 2 and [s[1] for s in ds.skipped] == ["missing", "missing"]
    with pytest.raises(InputError, match=r"1\.png"):
        FolderDataset(root, "train", 16, strict=True)


def test_corrupt_image_skipped_when_met_or_raises_under_strict(tmp_path):
    root = _folder_jsonl(tmp_path, n=4)
    (root / "images" / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    ds = FolderDataset(root, "train", 16, train=False)
    with pytest.warns(DataWarning, match=r"1\.png"):
        item = ds[1]
    assert item["index"] == 2 and item["caption"] == "caption 2 a"
    assert len(ds.skipped) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[1]["index"] == 2  # known bad: no second warning
    strict = FolderDataset(root, "train", 16, strict=True)
    with pytest.raises(InputError, match=r"1\.png"):
        strict[1]
    verified = FolderDataset(root, "train", 16)
    with pytest.warns(DataWarning, match="skipped 1 unreadable"):
        assert verified.verify() == 1
    assert len(verified) == 2


# ---------------------------------------------------------------- the common interface


def test_caption_choice_and_flip_follow_seed_and_epoch(tmp_path):
    root = _folder_jsonl(tmp_path, n=6)
    a = FolderDataset(root, "train", 16, seed=3)
    b = FolderDataset(root, "train", 16, seed=3)
    picks = [a.caption_index(i) for i in range(len(a))]
    assert picks == [b.caption_index(i) for i in range(len(b))]
    seen = set()
    for epoch in range(8):
        a.set_epoch(epoch)
        seen.add(tuple(a.caption_index(i) for i in range(len(a))))
    assert len(seen) > 1
    assert torch.equal(a[0]["image"], a[0]["image"])
    test = FolderDataset(root, "train", 16, train=False)
    assert all(test.caption_index(i) == 0 for i in range(len(test)))
    assert a.mismatched_caption(0) not in a.records[0].captions


def test_flip_mirrors_the_image(tmp_path):
    img = Image.new("RGB", (16, 16), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 8, 16))
    img.save(tmp_path / "half.png")
    (tmp_path / "captions.jsonl").write_text('{"image": "half.png", "caption": "c"}\n')
    ds = FolderDataset(tmp_path, "train", 16, train=False)
    plain = ds.image_tensor(0)
    assert torch.equal(ds.image_tensor(0, flip=True), plain.flip(-1))


def test_a_training_config_gives_reeds_layout_its_image_folder(oxford_root, tmp_path):
    import shutil

    from textedit.training.config import TrainDataConfig
    from textedit.training.data import open_dataset as open_training_data

    shutil.move(oxford_root.parent / "jpg", tmp_path / "elsewhere")
    config = TrainDataConfig(type="oxford102", root=oxford_root, image_dir=tmp_path / "elsewhere")
    ds = open_training_data(config, "test", 16, train=False, seed=0)
    assert ds.records[0].path == tmp_path / "elsewhere" / "image_06001.jpg" and ds[0]["image"].shape == (3, 16, 16)
    with pytest.raises(ValueError, match="image_dir is read by data.type oxford102 only"):
        TrainDataConfig(type="cub", root=oxford_root, image_dir=tmp_path)
