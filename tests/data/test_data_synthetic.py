"""The generated data: determinism, masks, true edits, grammar round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from textedit.data.synthetic import (
    COLOUR_NAMES,
    Scene,
    describe,
    edit_scene,
    family_names,
    get_family,
    parse,
    render,
    sample_scene,
)
from textedit.data.synthetic.render import OTHER_LABEL
from textedit.errors import InputError

FAMILIES = ["birds", "flowers"]


def scene(family: str, i: int = 0) -> Scene:
    return sample_scene(family, np.random.default_rng([7, i]))


def test_families_are_registered():
    assert family_names() == FAMILIES
    with pytest.raises(InputError, match="birds, flowers"):
        get_family("cats")


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", [64, 128, 256])
def test_every_family_renders_at_every_size(family, size):
    s = scene(family)
    out = render(s, size)
    fam = get_family(family)
    assert out.image.shape == (size, size, 3) and out.image.dtype == np.uint8
    assert set(out.part_masks) == set(fam.part_names)
    assert out.labels.shape == (size, size)
    frac = out.object_mask.mean()
    assert 0.05 < frac < 0.7, "the object should be clearly visible but not fill the image"
    # every part is visible somewhere
    for name, m in out.part_masks.items():
        assert m.max() > 0.5, name


@pytest.mark.parametrize("family", FAMILIES)
def test_deterministic_from_seed(family):
    a, b = scene(family, 3), scene(family, 3)
    assert a == b
    assert np.array_equal(render(a, 64).image, render(b, 64).image)
    assert scene(family, 4) != a
    assert Scene.from_dict(json.loads(json.dumps(a.to_dict()))) == a


@pytest.mark.parametrize("family", FAMILIES)
def test_masks_are_consistent(family):
    out = render(scene(family, 1), 128)
    total = sum(out.part_masks.values())
    assert np.all(total <= out.object_mask + 1e-5), "parts lie inside the object"
    assert np.all((out.object_mask >= 0) & (out.object_mask <= 1))
    fam = get_family(family)
    for k, name in enumerate(fam.part_names, 1):
        hard = out.labels == k
        assert np.all(out.part_masks[name][hard] >= 1.0 / (len(fam.parts) + 2))
    assert np.all(out.object_mask[out.labels == 0] < 0.5 + 1e-6)
    assert set(np.unique(out.labels)) <= {0, OTHER_LABEL, *range(1, len(fam.parts) + 1)}


def _every_change(s: Scene):
    fam = get_family(s.family)
    for part in fam.parts:
        for attribute in part.attributes:
            for value in part.values(attribute):
                if value != s.get(part.name, attribute):
                    yield part.name, attribute, value


@pytest.mark.parametrize("family", FAMILIES)
def test_true_edit_changes_only_the_edited_part(family):
    s = scene(family, 2)
    before = render(s, 64)
    for part, attribute, value in _every_change(s):
        after_scene = s.with_attributes({(part, attribute): value})
        after = render(after_scene, 64)
        changed = np.any(before.image != after.image, axis=-1)
        region = (before.part_masks[part] > 0) | (after.part_masks[part] > 0)
        assert not np.any(changed & ~region), (part, attribute, value)
        if attribute != "pattern":
            assert changed.any(), (part, attribute, value)
        # the other parts keep their masks unless the edited part now covers them
        for other in get_family(family).part_names:
            if other != part:
                keep = ~region
                assert np.array_equal(before.part_masks[other][keep], after.part_masks[other][keep])


@pytest.mark.parametrize("family", FAMILIES)
def test_identity_edit_reproduces_the_image(family):
    for i in range(10):
        s = scene(family, i)
        text = describe(s, np.random.default_rng(i)).text
        edit = edit_scene(s, text)
        assert edit.scene == s and not edit.changed
        assert np.array_equal(render(edit.scene, 64).image, render(s, 64).image)


@pytest.mark.parametrize("family", FAMILIES)
def test_descriptions_parse_back_to_what_they_mention(family):
    texts = set()
    for i in range(300):
        s = scene(family, i)
        d = describe(s, np.random.default_rng([i, 9]))
        assert parse(d.text, family) == dict(d.mentions), d.text
        assert d.mentions and all(s.get(p, a) == v for (p, a), v in d.mentions.items())
        texts.add(d.text)
    assert len(texts) > 280, "descriptions should vary"


def test_parser_reads_hand_written_descriptions():
    assert parse("This bird has a RED head, white wings and a long black tail.", "birds") == {
        ("head", "colour"): "red",
        ("wings", "colour"): "white",
        ("tail", "size"): "long",
        ("tail", "colour"): "black",
    }
    assert parse("a gray bird with a spotted breast", "birds") == {
        ("body", "colour"): "grey",
        ("belly", "pattern"): "spotted",
    }
    assert parse("the petals are violet with stripes; it has a big center", "flowers") == {
        ("petals", "colour"): "purple",
        ("petals", "pattern"): "striped",
        ("centre", "size"): "large",
    }
    assert parse("a lovely picture", "birds") == {}


def test_edit_by_description_changes_what_it_says():
    s = scene("birds", 5)
    target = "blue" if s.get("head", "colour") != "blue" else "red"
    edit = edit_scene(s, f"this bird has a {target} head")
    assert edit.scene.get("head", "colour") == target
    assert edit.changed == {("head", "colour"): (s.get("head", "colour"), target)}
    assert edit.changed_parts == ("head",)
    assert {k: v for k, v in edit.scene.shape.items()} == dict(s.shape)


def test_invalid_attribute_values():
    s = scene("flowers")
    with pytest.raises(InputError, match="allowed"):
        s.with_attributes({("petals", "colour"): "magenta"})
    with pytest.raises(InputError, match="no part"):
        s.with_attributes({("wings", "colour"): "red"})
    with pytest.raises(InputError, match="size"):
        render(s, 4)


def test_palette_colours_are_distinct():
    from textedit.data.synthetic.palette import rgb

    cols = np.stack([rgb(c) for c in COLOUR_NAMES])
    d = np.sqrt(((cols[:, None] - cols[None]) ** 2).sum(-1)) + np.eye(len(cols))
    assert d.min() > 0.25


def test_on_the_fly_caption_dataset_interface():
    from textedit.data import SyntheticCaptionDataset, SyntheticSpec

    train = SyntheticCaptionDataset(family="flowers", n=10, split="train", image_size=32, captions_per_image=3)
    test = SyntheticCaptionDataset(SyntheticSpec("flowers", n=10, captions_per_image=3), "test", 32)
    assert len(train) == 9 and len(test) == 1 and train.splits == ["train", "test"]
    item = train[4]
    assert item["image"].shape == (3, 32, 32) and item["path"] == ""
    assert item["caption"] in train.records[4].captions
    assert item["mismatched_caption"] not in train.records[4].captions
    assert parse(item["caption"], "flowers"), "captions speak the grammar"
    assert "petals" in train.build_vocabulary()


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_locality_of_described_edits_many_scenes(family):
    from textedit.data.synthetic import make_edit_pair

    for i in range(40):
        s = scene(family, 100 + i)
        other = describe(scene(family, 500 + i), np.random.default_rng(i)).text
        item = make_edit_pair(s, other, 128)
        outside = item["edit_mask"][0] == 0
        assert (item["image"][:, outside] == item["target"][:, outside]).all(), other


def test_renderer_speed_command_prints_a_row_per_family_and_size(capsys):
    from textedit.data.synthetic import bench

    bench.main(["--n", "2", "--sizes", "32"])
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split("|")[1:-1] for line in lines[2:]]
    assert [(r[0].strip(), r[1].strip()) for r in rows] == [("birds", "32"), ("flowers", "32")]
    assert all(float(v) > 0 for r in rows for v in r[2:])
