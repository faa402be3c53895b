"""Reading part attributes: exact on true edits, and what the identity gets wrong."""

from __future__ import annotations

import pytest
import torch

from textedit.data.synthetic import SyntheticSpec, edit_scene, make_edit_pair, render
from textedit.errors import InputError
from textedit.evaluation.attributes import (
    accuracy_metrics,
    judge,
    parse_requested,
    prepare_truth,
    read_by_synthesis,
    synthesis_candidates,
)

SIZE = 48


def _pairs(family: str, count: int):
    spec = SyntheticSpec(family, n=200, seed=3)
    for i in range(spec.n - count, spec.n):
        scene = spec.scene(i)
        description = spec.edit_description(i, 0, scene)
        item = make_edit_pair(scene, description, SIZE)
        truth = prepare_truth(
            scene, edit_scene(scene, description).scene, parse_requested(item["requested"]), SIZE
        )
        yield item, truth


def test_parse_requested_roundtrip_and_errors():
    assert parse_requested("head.colour=red;tail.size=long") == {
        ("head", "colour"): "red",
        ("tail", "size"): "long",
    }
    assert parse_requested("") == {}
    with pytest.raises(InputError, match="part.attribute=value"):
        parse_requested("head=red")


@pytest.mark.parametrize("family", ["birds", "flowers"])
def test_true_edits_read_100_percent(family):
    seen = 0
    for item, truth in _pairs(family, 10):
        verdicts = judge((item["target"] + 1) / 2, truth)
        read = [v for v in verdicts.values() if v is not None]
        seen += len(read)
        assert all(read), verdicts
        acc = accuracy_metrics(verdicts, truth.changed, ("head", "body"))
        assert acc["attr_acc"] in (1.0, None)  # None: only patterns asked for (classifier needed)
    assert seen > 10


def test_identity_fails_the_attributes_it_should_change():
    wrong = total = 0
    for item, truth in _pairs("birds", 10):
        verdicts = judge((item["image"] + 1) / 2, truth)
        for key in truth.changed:
            if verdicts[key] is not None:
                total += 1
                wrong += not verdicts[key]
    assert total > 5 and wrong / total > 0.9


def test_a_recoloured_part_reads_as_its_new_colour():
    scene = SyntheticSpec("birds", n=10, seed=0).scene(0)
    for colour in ("red", "blue", "white"):
        drawn = render(scene.with_attributes({("wings", "colour"): colour}), SIZE)
        image = torch.from_numpy(drawn.image).permute(2, 0, 1).float() / 255
        cands = synthesis_candidates(scene, "wings", "colour", SIZE)
        values, distances = read_by_synthesis(image, cands)
        assert values == {"colour": colour} and distances.min().item() == 0.0


def test_size_and_colour_are_read_apart():
    # A part drawn at the asked-for size in the wrong colour reads as the right size, and an
    # unchanged part as its own size: the size verdict does not hang on the colour verdict.
    spec = SyntheticSpec("birds", n=400, seed=5)
    checked = 0
    for i in range(spec.n):
        if checked >= 6:
            break
        scene = spec.scene(i)
        description = spec.edit_description(i, 0, scene)
        target = edit_scene(scene, description).scene
        requested = parse_requested(make_edit_pair(scene, description, SIZE)["requested"])
        changed = {k for k, v in requested.items() if scene.attributes[k[0]].get(k[1]) != v}
        sizes = [k for k in changed if k[1] == "size" and (k[0], "colour") in changed]
        if not sizes:
            continue
        truth = prepare_truth(scene, target, requested, SIZE)
        for part, _ in sizes:
            resized_only = scene.with_attributes({(part, "size"): requested[(part, "size")]})
            for drawn, size_right in ((resized_only, True), (scene, False)):
                image = torch.from_numpy(render(drawn, SIZE).image).permute(2, 0, 1).float() / 255
                verdicts = judge(image, truth)
                assert verdicts[(part, "size")] is size_right and verdicts[(part, "colour")] is False
                checked += 1
    assert checked >= 6


def test_pattern_needs_the_classifier():
    item, truth = next(
        iter(p for p in _pairs("birds", 30) if any(k[1] == "pattern" for k in p[1].requested))
    )
    verdicts = judge((item["target"] + 1) / 2, truth)
    key = next(k for k in truth.requested if k[1] == "pattern")
    assert verdicts[key] is None  # not read without a classifier
    verdicts = judge((item["target"] + 1) / 2, truth, {key: truth.requested[key]})
    assert verdicts[key] is True


def test_read_by_synthesis_checks_sizes():
    scene = SyntheticSpec("birds", n=10, seed=0).scene(0)
    cands = synthesis_candidates(scene, "tail", "size", SIZE)
    with pytest.raises(InputError, match="does not match"):
        read_by_synthesis(torch.zeros(3, SIZE + 1, SIZE + 1), cands)


def test_change_accuracies_count_only_what_differs_from_the_input():
    verdicts = {
        ("head", "pattern"): True,   # asked for and already so: pattern acc. only
        ("body", "pattern"): False,  # a change, missed
        ("wings", "pattern"): True,  # a change, made
        ("tail", "size"): False,     # a change, missed
        ("beak", "size"): True,      # already so
        ("head", "colour"): None,    # not read: counts nowhere
    }
    changed = {("body", "pattern"), ("wings", "pattern"), ("tail", "size"), ("head", "colour")}
    acc = accuracy_metrics(verdicts, changed, ("head", "body", "wings", "tail", "beak"))
    assert acc["pattern_acc"] == pytest.approx(2 / 3) and acc["pattern_change_acc"] == 0.5
    assert acc["size_acc"] == 0.5 and acc["size_change_acc"] == 0.0
    assert acc["edit_acc"] == pytest.approx(1 / 3) and acc["colour_acc"] is None
