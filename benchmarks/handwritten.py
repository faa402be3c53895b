"""Build the "descriptions a person writes" evaluation folder of generated birds.

    python benchmarks/handwritten.py --out runs/handwritten_birds
    python benchmarks/handwritten.py --out runs/handwritten_birds_templated --templated
    textedit eval --model mimnet64_birds --model identity --model true-edit \\
        --data runs/handwritten_birds --out runs/eval_handwritten

``benchmarks/data/handwritten_birds.jsonl`` holds 50 descriptions of a bird written by hand,
outside the templates of :mod:`textedit.data.synthetic.grammar` (synonyms such as "crimson"
or "azure", imperatives, relative clauses, hyphenated compounds, terse lists), each with the
attributes it means: ``{"text": ..., "requested": {"part.attribute": "value", ...}}``.

Every description is paired with each of the first ``--images`` held-out test images of the
default generated data set (``SyntheticSpec(family="birds", n=20000, seed=0)``, whose test
split no shipped model trained on), 50 x N pairs. A pair's true edit is the image's scene
with the *meant* attributes set (``scene.with_attributes(requested)``), never what the
grammar's parser reads from the text: the folder's ``edits.jsonl`` saves those attributes as
``requested``, and ``textedit eval`` draws its true edits from them. A pair whose attributes
the image already has is kept (edit accuracy counts changed attributes only).

``--templated`` writes the same pairs (same images, same meant attributes, same edit ids)
with the grammar's own wording instead: a description :func:`~textedit.data.synthetic.
grammar.describe` writes of the true edit's scene that mentions exactly the meant attributes.
Scoring both folders with the same models separates what hand-written wording costs from
what the edits themselves cost. (The usual in-template figure, on other pairs, is ``textedit
eval --data synthetic:birds``.)

The folder is in the layout ``textedit data generate`` writes (its writer's helpers draw
it), so any tool that reads such a folder reads this one. Use a separate ``textedit eval
--out`` for each folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from textedit.data.synthetic.data import SyntheticSpec
from textedit.data.synthetic.grammar import describe, parse
from textedit.data.synthetic.scene import Scene
from textedit.data.synthetic.writer import (
    folder_manifest,
    write_edit_pair,
    write_image,
    writing_folder,
)
from textedit.errors import InputError

DESCRIPTIONS = Path(__file__).resolve().parent / "data" / "handwritten_birds.jsonl"
#: the generated data set of the shipped training recipes (its test split is held out)
SPEC = SyntheticSpec(family="birds", n=20000, seed=0)
#: draws of :func:`describe` tried for a templated description before giving up
_MAX_DRAWS = 100_000

Requested = dict[tuple[str, str], str]


def read_descriptions(path: str | Path) -> list[tuple[str, Requested]]:
    """``(text, requested)`` per line of a descriptions file (module doc).

    Raises:
        InputError: a line that is not ``{"text": str, "requested": {"part.attribute": value}}``.
    """
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        text, requested = obj.get("text"), obj.get("requested")
        if not isinstance(text, str) or not text.strip() or not isinstance(requested, dict):
            raise InputError(f"{path}:{n}: expected {{'text': str, 'requested': {{...}}}}")
        keys = [k.split(".") for k in requested]
        if not requested or any(len(k) != 2 for k in keys):
            raise InputError(f"{path}:{n}: 'requested' keys must be 'part.attribute'")
        out.append((text.strip(), {(p, a): v for (p, a), v in zip(keys, requested.values())}))
    if not out:
        raise InputError(f"{path} holds no descriptions")
    return out


def templated(target: Scene, requested: Requested, rng: np.random.Generator) -> str:
    """The grammar's description of ``target`` mentioning exactly the attributes ``requested``:
    :func:`describe` drawn until its mentions are those (its own wording, conditioned)."""
    for _ in range(_MAX_DRAWS):
        d = describe(target, rng)
        if set(d.mentions) == set(requested):
            if parse(d.text, target.family) != requested:  # the grammar reads its own text
                raise AssertionError(f"the parser misreads {d.text!r}")
            return d.text
    raise RuntimeError(f"describe() never mentioned exactly {sorted(requested)}")


def build(
    out: str | Path,
    images: int = 8,
    size: int = 64,
    is_templated: bool = False,
    descriptions: str | Path = DESCRIPTIONS,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the evaluation folder (module doc) into ``out``; returns its manifest.

    Raises:
        InputError: ``out`` may not be written, ``images`` is out of range, or a description
            means an attribute value the birds do not have.
    """
    rows = read_descriptions(descriptions)
    test = [i for i in range(SPEC.n) if SPEC.split(i) == "test"]
    if not 1 <= images <= len(test):
        raise InputError(f"--images must be between 1 and {len(test)}, got {images}")
    counts = {"train": 0, "test": 0, "edits": 0}
    tag = "t" if is_templated else "h"
    with writing_folder(out, overwrite) as files:
        for i in test[:images]:
            scene, drawn = write_image(files.root, SPEC, i, size, files.captions, files.scenes)
            counts["test"] += 1
            image_id = SPEC.image_id(i)
            for k, (text, requested) in enumerate(rows):
                if is_templated:
                    rng = np.random.default_rng([SPEC.seed, i, 3, k])
                    text = templated(scene.with_attributes(requested), requested, rng)
                edit_id = f"{image_id}_{tag}{k:02d}"
                line = write_edit_pair(
                    files.root, edit_id, image_id, "test", scene, drawn, size, text, requested
                )
                files.edits.write(json.dumps(line) + "\n")
                counts["edits"] += 1
        manifest = folder_manifest(SPEC, size, counts)
        # in "spec", so that `textedit eval` tells the two wordings' folders apart
        manifest["spec"]["benchmark"] = {
            "name": "handwritten_birds",
            "wording": "templated" if is_templated else "handwritten",
            "descriptions": Path(descriptions).name,
            "descriptions_sha256": hashlib.sha256(Path(descriptions).read_bytes()).hexdigest(),
            "images": images,
        }
        files.manifest = manifest
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="the evaluation folder to write")
    ap.add_argument("--images", type=int, default=8, help="held-out test images (default 8)")
    ap.add_argument("--size", type=int, default=64, help="image side (default 64)")
    ap.add_argument(
        "--templated",
        action="store_true",
        help="the same pairs worded by the grammar (same images and meant attributes)",
    )
    ap.add_argument("--descriptions", default=str(DESCRIPTIONS), help="descriptions file")
    ap.add_argument("--overwrite", action="store_true", help="replace --out")
    args = ap.parse_args(argv)
    try:
        manifest = build(
            args.out, args.images, args.size, args.templated, args.descriptions, args.overwrite
        )
    except InputError as exc:
        ap.exit(2, f"error: {exc}\n")
    rows = read_descriptions(args.descriptions)
    misread = refused = 0
    for text, requested in rows:
        try:
            misread += parse(text, "birds") != requested
        except InputError:
            refused += 1
    c = manifest["counts"]
    print(
        f"wrote {args.out}: {c['test']} test images x {len(rows)} descriptions = {c['edits']} "
        f"pairs ({manifest['spec']['benchmark']['wording']}); the grammar's parser misreads "
        f"{misread}/{len(rows)} of the hand-written descriptions and refuses {refused}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
