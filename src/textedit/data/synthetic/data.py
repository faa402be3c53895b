"""Generated data sets, drawn on the fly or read back from disk.

Shape legend: ``s`` image side, ``p`` number of parts of the family.

A :class:`SyntheticSpec` fixes a generated data set: image ``i`` is the scene sampled from
``(seed, i)``, its captions come from ``(seed, i, 1)``, the last ``test_fraction`` of the
images form the test split, and test image ``i`` has ``edits_per_image`` edit pairs whose
target descriptions describe other sampled scenes. The on-the-fly data sets and
``textedit data generate`` use the same spec, so a data set on disk holds exactly the
pixels the on-the-fly one draws.

Edit-pair items (:func:`make_edit_pair`) are dicts:

* ``image``, ``target``: ``(3, s, s)`` in [-1, 1], the input and its true edit;
* ``description``: the target description;
* ``object_mask``: ``(1, s, s)`` {0, 1}, the object in the input;
* ``part_masks``, ``target_part_masks``: ``(p, s, s)`` {0, 1}, each pixel to the part
  that covers most of it (family part order), in the input and in the true edit;
* ``edit_mask``: ``(1, s, s)`` in [0, 1], the coverage of the changed parts before or after
  the edit, rounded up to 1/255: outside it the true edit equals the input exactly;
* ``requested``: ``"part.attribute=value;..."`` every attribute the description asks for;
  ``changed_parts``: ``"part;..."`` those whose look changes;
* ``image_id``, ``edit_id``, ``index``.

With ``true_edits=True``, :class:`SyntheticCaptionDataset` items also hold
``mismatched_target``: ``(3, s, s)`` the true edit of the (possibly flipped) image by its
``mismatched_caption`` (for the optional paired losses of training, ``losses.true_edit``
...), and ``mismatched_weight``: ``(1, s, s)`` :func:`part_weights` of that edit (for
``losses.edit_region_weighting: part``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from textedit.data.base import CaptionDataset, CaptionRecord
from textedit.data.folder import read_manifest
from textedit.data.images import array_to_tensor, load_image, pil_to_tensor
from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.grammar import Edit, describe, describe_many, edit_scene, parse, reword
from textedit.data.synthetic.render import Rendering, render
from textedit.data.synthetic.scene import Scene, sample_scene
from textedit.errors import InputError
from textedit.text import Vocabulary

__all__ = [
    "SyntheticSpec",
    "SyntheticCaptionDataset",
    "SyntheticEditPairs",
    "FolderEditPairs",
    "make_edit_pair",
    "true_edit",
    "edit_mask",
    "part_weights",
    "load_scenes",
    "reworded_item",
    "drawn_true_edit",
    "reworded_vocabulary",
]


@dataclass(frozen=True)
class SyntheticSpec:
    """What fixes a generated data set (see the module doc)."""

    family: str = "birds"
    n: int = 1000
    seed: int = 0
    test_fraction: float = 0.1
    captions_per_image: int = 10
    edits_per_image: int = 2

    def __post_init__(self) -> None:
        get_family(self.family)
        if self.n < 1:
            raise InputError(f"n must be at least 1, got {self.n}")
        if self.seed < 0:
            raise InputError(f"the seed must be at least 0, got {self.seed}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise InputError(f"test_fraction must be in [0, 1), got {self.test_fraction}")
        if self.captions_per_image < 1:
            raise InputError(f"captions_per_image must be at least 1, got {self.captions_per_image}")
        if self.edits_per_image < 0:
            raise InputError(f"edits_per_image must be at least 0, got {self.edits_per_image}")

    @property
    def n_test(self) -> int:
        if self.test_fraction == 0 or self.n < 2:
            return 0
        return min(self.n - 1, max(1, round(self.n * self.test_fraction)))

    def split(self, i: int) -> str:
        return "test" if i >= self.n - self.n_test else "train"

    def image_id(self, i: int) -> str:
        return f"{i:06d}"

    def scene(self, i: int) -> Scene:
        return sample_scene(self.family, np.random.default_rng([self.seed, i]))

    def captions(self, i: int, scene: Scene | None = None) -> list[str]:
        scene = scene or self.scene(i)
        rng = np.random.default_rng([self.seed, i, 1])
        return [d.text for d in describe_many(scene, rng, self.captions_per_image)]

    def edit_description(self, i: int, k: int, scene: Scene | None = None) -> str:
        """The ``k``-th target description of image ``i``: another scene's description,
        drawn again (up to 8 times) when it would change nothing."""
        scene = scene or self.scene(i)
        rng = np.random.default_rng([self.seed, i, 2, k])
        text = ""
        for _ in range(8):
            text = describe(sample_scene(self.family, rng), rng).text
            if edit_scene(scene, text).changed:
                break
        return text

    def records(self) -> list[CaptionRecord]:
        """Every image's record, all splits (computed once per spec in a process: the
        training and the sample split of a run share them)."""
        return list(_records(self))

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n": self.n,
            "seed": self.seed,
            "test_fraction": self.test_fraction,
            "captions_per_image": self.captions_per_image,
            "edits_per_image": self.edits_per_image,
        }


@functools.lru_cache(maxsize=4)
def _records(spec: SyntheticSpec) -> tuple[CaptionRecord, ...]:
    return tuple(
        CaptionRecord(spec.image_id(i), tuple(spec.captions(i)), spec.split(i), extras={"index": i})
        for i in range(spec.n)
    )


class SyntheticCaptionDataset(CaptionDataset):
    """A generated data set drawn on the fly (the :class:`CaptionDataset` interface).

    Args:
        spec: the data set (or give its fields as keyword arguments: ``family``, ``n`` ...).
        split: ``"train"`` or ``"test"``.
        image_size: side of the drawn images (any size >= 16; 64, 128, 256 are the usual).
        kwargs: without ``spec``, :class:`SyntheticSpec` fields first (so ``seed`` is the
            data set's seed), then :class:`CaptionDataset` arguments; with ``spec``, only
            :class:`CaptionDataset` arguments (``seed`` is then the seed of the random
            caption choice, flip and mismatched caption).
        true_edits: items also hold ``mismatched_target`` (module doc).
        reword: probability that an item's caption and, independently, its mismatched
            caption are rewritten by :func:`~textedit.data.synthetic.grammar.reword`
            (commands, requests, relative clauses, compound adjectives, terse lists) with
            the same meaning: paraphrase augmentation for descriptions people write. The
            vocabulary then also holds the reworded captions' words.
    """

    def __init__(
        self,
        spec: SyntheticSpec | None = None,
        split: str = "train",
        image_size: int = 128,
        true_edits: bool = False,
        reword: float = 0.0,
        **kwargs: Any,
    ):
        if not 0.0 <= reword <= 1.0:
            raise InputError(f"reword is a probability in [0, 1], got {reword}")
        if spec is None:
            fields = {k: kwargs.pop(k) for k in list(kwargs) if k in SyntheticSpec.__dataclass_fields__}
            spec = SyntheticSpec(**fields)
        self.spec = spec
        self.true_edits = bool(true_edits)
        self.reword = float(reword)
        self._last_drawn: tuple[int | None, Any] = (None, None)
        kwargs.setdefault("name", f"generated {self.spec.family} (seed {self.spec.seed})")
        super().__init__(self.spec.records(), split, image_size, **kwargs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = super().__getitem__(index)
        if not (self.reword or self.true_edits):
            return item
        mismatched = parse(item["mismatched_caption"], self.spec.family)
        if self.reword:
            reworded_item(item, self.spec.family, self._rng(item["index"], 3), self.reword)
        if self.true_edits:
            scene, before = self._drawn(item["index"])
            target, weight = drawn_true_edit(scene, before, mismatched, self.image_size)
            flip = item["flipped"]
            item["mismatched_target"] = array_to_tensor(target, flip)
            item["mismatched_weight"] = torch.from_numpy((weight[:, ::-1] if flip else weight).copy())[None]
        return item

    def scene(self, index: int) -> Scene:
        return self.spec.scene(self.records[index].extras["index"])

    def build_vocabulary(self, min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """The vocabulary of the training captions and, with ``reword``, of one rewording of each."""
        if self.reword:
            return reworded_vocabulary(self.captions("train"), self.spec.family, self.seed, min_count, max_size)
        return super().build_vocabulary(min_count, max_size)

    def read_image(self, index: int) -> Image.Image:
        return Image.fromarray(self._drawn(index)[1].image)

    def _drawn(self, index: int) -> tuple[Scene, Rendering]:
        """Record ``index``'s scene and its rendering, kept for the last index asked: an item
        reads its image and then, for the true edit, its part masks."""
        if self._last_drawn[0] != index:
            scene = self.scene(index)
            self._last_drawn = (index, (scene, render(scene, self.image_size)))
        return self._last_drawn[1]


def reworded_item(item: dict[str, Any], family: str, rng: np.random.Generator, probability: float) -> None:
    """Reword an item's ``caption`` and, independently, its ``mismatched_caption``, each with
    ``probability`` (in place; the meaning stays, see :func:`~.grammar.reword`)."""
    for key in ("caption", "mismatched_caption"):
        if rng.random() < probability:
            item[key] = reword(parse(item[key], family), family, rng)


def reworded_vocabulary(
    texts: list[str], family: str, seed: int, min_count: int = 1, max_size: int | None = None
) -> Vocabulary:
    """The vocabulary of ``texts`` and of one rewording of each (seeded by ``seed``)."""
    if not texts:
        raise InputError("no training captions to build a vocabulary from")
    rng = np.random.default_rng([seed, 3])
    texts = texts + [reword(parse(t, family), family, rng) for t in texts]
    return Vocabulary.build(texts, min_count=min_count, max_size=max_size)


def edit_mask(before: Rendering, after: Rendering, parts: tuple[str, ...]) -> np.ndarray:
    """``(s, s)`` float32: where ``parts`` cover the image before or after, rounded up to 1/255."""
    m = np.zeros_like(before.object_mask)
    for p in parts:
        m = np.maximum(m, np.maximum(before.part_masks[p], after.part_masks[p]))
    return np.ceil(m * 255.0) / 255.0


def part_weights(before: Rendering, after: Rendering, parts: tuple[str, ...]) -> np.ndarray:
    """``(s, s)`` float32: each of ``parts`` covers (before or after) with total weight 1.

    Pixel weights for an edit-region loss that weighs every changed part alike: a beak
    that grows by a few pixels then counts as much as a recoloured body.
    """
    w = np.zeros_like(before.object_mask, dtype=np.float32)
    for p in parts:
        m = np.maximum(before.part_masks[p], after.part_masks[p])
        w += m / max(float(m.sum()), 1e-6)
    return w


def _one_hot(labels: np.ndarray, n_parts: int) -> torch.Tensor:
    ids = torch.arange(1, n_parts + 1, dtype=torch.uint8).view(-1, 1, 1)
    return (torch.from_numpy(labels).unsqueeze(0) == ids).float()


def _requested_text(requested) -> str:
    return ";".join(f"{p}.{a}={v}" for (p, a), v in sorted(requested.items()))


def true_edit(
    scene: Scene, description: str, requested: Mapping[tuple[str, str], str] | None = None
) -> Edit:
    """The true edit of ``scene`` by ``description``.

    Args:
        requested: what the description means, ``(part, attribute) -> value``, when known
            (hand-written descriptions); None: what the grammar's parser reads from it.
    """
    if requested is None:
        return edit_scene(scene, description)
    edited = scene.with_attributes(requested)
    return Edit(edited, dict(requested), scene.diff(edited))


def drawn_true_edit(
    scene: Scene, before: Rendering, requested: Mapping[tuple[str, str], str], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The true edit of ``scene`` (drawn as ``before``) by the mentions ``requested``: its
    ``(s, s, 3)`` uint8 image and its ``(s, s)`` :func:`part_weights`."""
    edit = true_edit(scene, "", requested)
    after = render(edit.scene, size)
    return after.image, part_weights(before, after, edit.changed_parts)


def make_edit_pair(
    scene: Scene,
    description: str,
    size: int,
    requested: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, Any]:
    """The edit-pair item of ``scene`` edited by ``description`` at ``size`` (module doc).

    Args:
        requested: the attributes ``description`` means, when known (see :func:`true_edit`).
    """
    fam = get_family(scene.family)
    edit = true_edit(scene, description, requested)
    before, after = render(scene, size), render(edit.scene, size)
    return _pair_item(
        before.image,
        after.image,
        before.labels,
        after.labels,
        edit_mask(before, after, edit.changed_parts),
        description,
        _requested_text(edit.requested),
        ";".join(edit.changed_parts),
        len(fam.parts),
    )


def _pair_item(image, target, labels, target_labels, mask, description, requested, changed, n_parts):
    return {
        "image": pil_to_tensor(Image.fromarray(image)),
        "target": pil_to_tensor(Image.fromarray(target)),
        "description": description,
        "object_mask": torch.from_numpy((labels > 0).astype(np.float32)).unsqueeze(0),
        "part_masks": _one_hot(labels, n_parts),
        "target_part_masks": _one_hot(target_labels, n_parts),
        "edit_mask": torch.from_numpy(mask.astype(np.float32)).unsqueeze(0),
        "requested": requested,
        "changed_parts": changed,
    }


class SyntheticEditPairs(torch.utils.data.Dataset):
    """Edit pairs of a generated data set's split, drawn on the fly (module doc)."""

    def __init__(self, spec: SyntheticSpec | None = None, split: str = "test", image_size: int = 128, **fields: Any):
        self.spec = spec or SyntheticSpec(**fields)
        self.image_size = int(image_size)
        self.part_names = get_family(self.spec.family).part_names
        self.sources = [i for i in range(self.spec.n) if self.spec.split(i) == split]
        if not self.sources or self.spec.edits_per_image == 0:
            raise InputError(f"the generated data set has no edit pairs in split {split!r}")

    def __len__(self) -> int:
        return len(self.sources) * self.spec.edits_per_image

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        i = self.sources[index // self.spec.edits_per_image]
        k = index % self.spec.edits_per_image
        scene = self.spec.scene(i)
        item = make_edit_pair(scene, self.spec.edit_description(i, k, scene), self.image_size)
        item.update(image_id=self.spec.image_id(i), edit_id=f"{self.spec.image_id(i)}_e{k}", index=index)
        return item


def load_scenes(root: str | os.PathLike[str]) -> dict[str, Scene]:
    """``image id -> Scene`` from a generated data set's ``scenes.jsonl``."""
    path = Path(root) / "scenes.jsonl"
    if not path.is_file():
        raise InputError(f"{path} does not exist; is {root} a data set written by 'textedit data generate'?")
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            out[obj["id"]] = Scene.from_dict(obj["scene"])
    return out


class FolderEditPairs(torch.utils.data.Dataset):
    """The edit pairs of a data set written by ``textedit data generate`` (``edits.jsonl``).

    Images are read at the size they were written; the items match :class:`SyntheticEditPairs`
    of the same spec exactly.
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.manifest = read_manifest(self.root) or {}
        path = self.root / "edits.jsonl"
        if not path.is_file():
            raise InputError(f"{path} does not exist; generate the data set with --edits-per-image > 0")
        self.pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not self.pairs:
            raise InputError(f"{path} lists no edit pairs")
        self.part_names = get_family(self.manifest.get("family", self.pairs[0]["family"])).part_names
        self.image_size = int(self.manifest.get("image_size", 0)) or None

    def __len__(self) -> int:
        return len(self.pairs)

    def _gray(self, rel: str) -> np.ndarray:
        path = self.root / rel
        if not path.is_file():
            raise InputError(f"{path} is missing; regenerate the data set")
        with Image.open(path) as img:
            return np.asarray(img.convert("L") if img.mode != "L" else img, dtype=np.uint8).copy()

    def __getitem__(self, index: int) -> dict[str, Any]:
        p = self.pairs[index]
        image = np.asarray(load_image(self.root / p["image"]))
        target = np.asarray(load_image(self.root / p["target"]))
        labels = self._gray(p["labels"])
        target_labels = self._gray(p["target_labels"])
        mask = self._gray(p["edit_mask"]).astype(np.float32) / 255.0
        item = _pair_item(
            image, target, labels, target_labels, mask, p["description"], p["requested"],
            p["changed_parts"], len(self.part_names),
        )
        item.update(image_id=p["image_id"], edit_id=p["id"], index=index)
        return item


