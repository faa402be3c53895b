"""What an evaluation runs on: edit pairs with ground truth, or captioned images without.

Shape legend: ``s`` the image side an item is drawn at, ``p`` parts of the family.

:func:`open_eval_data` reads ``textedit eval --data``:

* ``synthetic:<family>`` (``synthetic:birds``): the held-out edit pairs of the generated data
  set :class:`~textedit.data.synthetic.SyntheticSpec` ``(family, n, seed)`` (defaults: the
  training recipe's 20 000 images, seed 0, so its test split is the images a model trained
  with the shipped config ``mimnet64_birds`` never saw), drawn at each model's size;
* a folder written by ``textedit data generate`` (it has ``edits.jsonl``): its edit pairs,
  drawn again from its saved scenes at each model's size (identical pixels at the size it
  was written at); the true edit applies each pair's saved ``requested`` attributes (what
  the description means), not what the grammar's parser reads from the description, so a
  folder of hand-written descriptions (``benchmarks/handwritten.py``) is scored exactly;
* any other data set folder (generic layout, CUB, Oxford-102): its images, each edited with
  a **mismatched caption** (a caption of another image, of another class when classes are
  known) drawn with the evaluation seed, as ManiGAN's protocol does; no ground truth.

Every item carries ``image`` ``(3, s, s)`` in ``[-1, 1]``, ``description`` (what the model is
asked to do), ``own_caption`` (the image's own first caption, for the identity edit) and
``id``; edit pairs add ``target``, the masks of :func:`~textedit.data.synthetic.make_edit_pair`,
``requested``, ``scene`` and ``target_scene``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textedit.data.detect import detect_layout, open_dataset
from textedit.data.folder import read_folder, read_manifest
from textedit.data.synthetic.data import SyntheticSpec, load_scenes, make_edit_pair, true_edit
from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.writer import GENERATOR_VERSION
from textedit.errors import InputError
from textedit.evaluation.attributes import parse_requested

__all__ = ["GeneratedPairs", "CaptionPairs", "open_eval_data", "DEFAULT_SYNTHETIC"]

#: the generated data set of the shipped training recipes (the shipped configs ``mimnet64_*``)
DEFAULT_SYNTHETIC = {"n": 20000, "seed": 0}


@dataclass(frozen=True)
class _Entry:
    image_id: str
    edit_id: str
    scene: Any
    description: str
    own_caption: str
    #: what the description means; None: what the grammar's parser reads from it
    requested: Mapping[tuple[str, str], str] | None = None


class GeneratedPairs:
    """Edit pairs of a generated data set, drawn at any size (see the module doc).

    Args:
        entries: a callable giving pair ``k`` (computed once, then cached).
        count: the number of pairs.
        family: the family of the scenes.
        name: how reports name the data.
        fingerprint: what identifies the data (spec or manifest).
        native_size: the size a folder was written at (None: drawn on the fly).
    """

    has_truth = True

    def __init__(
        self,
        entries: Callable[[int], _Entry],
        count: int,
        family: str,
        name: str,
        fingerprint: dict[str, Any],
        native_size: int | None = None,
    ):
        self._entry, self._count = entries, count
        self._cache: dict[int, _Entry] = {}
        self.family = family
        self.part_names = get_family(family).part_names
        self.name, self.fingerprint, self.native_size = name, fingerprint, native_size

    @classmethod
    def from_spec(cls, spec, split: str = "test") -> "GeneratedPairs":
        """The pairs of a :class:`~textedit.data.synthetic.SyntheticSpec` split."""
        sources = [i for i in range(spec.n) if spec.split(i) == split]
        if not sources or spec.edits_per_image == 0:
            raise InputError(
                f"the generated data set {spec.to_dict()} has no edit pairs in split {split!r}; "
                "its splits are train and test (--split test: the held-out images)"
            )
        per = spec.edits_per_image

        def entry(k: int) -> _Entry:
            i = sources[k // per]
            scene = spec.scene(i)
            image_id = spec.image_id(i)
            return _Entry(
                image_id,
                f"{image_id}_e{k % per}",
                scene,
                spec.edit_description(i, k % per, scene),
                spec.captions(i, scene)[0],
            )

        name = f"generated {spec.family}, {split} split (n={spec.n}, seed={spec.seed})"
        return cls(
            entry,
            len(sources) * per,
            spec.family,
            name,
            {"synthetic": spec.to_dict(), "split": split},
        )

    @classmethod
    def from_folder(cls, root: str | os.PathLike[str], split: str = "test") -> "GeneratedPairs":
        """The pairs of a folder written by ``textedit data generate``."""
        root = Path(root)
        manifest = read_manifest(root) or {}
        if manifest.get("generator_version", GENERATOR_VERSION) != GENERATOR_VERSION:
            raise InputError(
                f"{root} was written by data generator version "
                f"{manifest.get('generator_version')}, this textedit draws "
                f"version {GENERATOR_VERSION}; regenerate it with `textedit data generate` so the "
                "true edits match"
            )
        pairs = [
            json.loads(x)
            for x in (root / "edits.jsonl").read_text(encoding="utf-8").splitlines()
            if x.strip()
        ]
        pairs = [p for p in pairs if p.get("split", "test") == split]
        if not pairs:
            raise InputError(f"{root}/edits.jsonl has no edit pairs in split {split!r}")
        scenes = load_scenes(root)
        own = {r.image_id: r.captions[0] for r in read_folder(root)}
        entries = [
            _Entry(
                p["image_id"],
                p["id"],
                scenes[p["image_id"]],
                p["description"],
                own.get(p["image_id"], p["description"]),
                parse_requested(p["requested"]) if "requested" in p else None,
            )
            for p in pairs
        ]
        family = manifest.get("family") or pairs[0]["family"]
        fp = {
            "folder": str(root.resolve()),
            "manifest": {k: manifest.get(k) for k in ("spec", "image_size", "generator_version")},
            "split": split,
        }
        return cls(
            entries.__getitem__,
            len(entries),
            family,
            f"{root.name} ({family}, {split} split)",
            fp,
            manifest.get("image_size"),
        )

    def __len__(self) -> int:
        return self._count

    def entry(self, index: int) -> _Entry:
        if index not in self._cache:
            self._cache[index] = self._entry(index)
        return self._cache[index]

    def item(self, index: int, size: int) -> dict[str, Any]:
        """Pair ``index`` drawn at ``size`` (module doc)."""
        e = self.entry(index)
        item = make_edit_pair(e.scene, e.description, size, e.requested)
        item.update(
            id=e.edit_id,
            image_id=e.image_id,
            index=index,
            own_caption=e.own_caption,
            scene=e.scene,
            target_scene=true_edit(e.scene, e.description, e.requested).scene,
        )
        return item


class CaptionPairs:
    """Images of a data set folder edited with mismatched captions (module doc)."""

    has_truth = False
    family = None
    part_names: tuple[str, ...] = ()

    def __init__(self, root: str | os.PathLike[str], split: str = "test", seed: int = 0):
        self.root, self.split, self.seed = Path(root), split, seed
        self.layout = detect_layout(root)
        self._open = lambda size: open_dataset(
            root,
            split=split,
            image_size=size,
            layout=self.layout,
            train=False,
            flip=False,
            seed=seed,
        )
        self._datasets: dict[int, Any] = {}
        first = self.dataset(64)
        self._count = len(first)
        self.name = f"{self.root.name} ({self.layout} layout, {split} split)"
        self.fingerprint = {
            "folder": str(self.root.resolve()),
            "layout": self.layout,
            "split": split,
            "images": self._count,
            "seed": seed,
        }
        self.native_size = None

    def dataset(self, size: int):
        if size not in self._datasets:
            self._datasets[size] = self._open(size)
        return self._datasets[size]

    def __len__(self) -> int:
        return self._count

    def item(self, index: int, size: int) -> dict[str, Any]:
        ds = self.dataset(size)
        ds.set_epoch(0)
        it = ds[index]
        return {
            "image": it["image"],
            "description": it["mismatched_caption"],
            "own_caption": it["caption"],
            "id": f"{index:06d}_{it['image_id']}".replace("/", "_"),
            "image_id": it["image_id"],
            "index": index,
        }


def open_eval_data(
    data: str,
    split: str = "test",
    n: int | None = None,
    data_seed: int | None = None,
    seed: int = 0,
):
    """The evaluation data ``--data`` names (module doc).

    Args:
        data: ``synthetic:<family>`` or a folder.
        split: the split to evaluate.
        n: the generated data set's size (``synthetic:`` only).
        data_seed: the generated data set's seed (``synthetic:`` only).
        seed: the seed of the mismatched captions (folders without ground truth).

    Raises:
        InputError: an unknown form, a missing folder, or a split without pairs.
    """
    if data.startswith("synthetic:"):
        family = data.split(":", 1)[1]
        spec = SyntheticSpec(
            family=family,
            n=n or DEFAULT_SYNTHETIC["n"],
            seed=DEFAULT_SYNTHETIC["seed"] if data_seed is None else data_seed,
        )
        return GeneratedPairs.from_spec(spec, split)
    if n is not None or data_seed is not None:
        raise InputError(
            "--data-n and --data-seed apply to --data synthetic:<family> only; a folder has its own"
        )
    root = Path(data)
    if not root.is_dir():
        raise InputError(
            f"--data {data!r} is neither synthetic:<family> (e.g. synthetic:birds) nor an existing "
            "folder; "
            "generate one with `textedit data generate --family birds --n 1000 --out DIR --size "
            "64`"
        )
    if (root / "edits.jsonl").is_file():
        return GeneratedPairs.from_folder(root, split)
    return CaptionPairs(root, split, seed)
