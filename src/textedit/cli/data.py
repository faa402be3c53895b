"""``textedit data``: generate a data set with ground truth, inspect one, convert captions.

* ``textedit data generate --family birds --n 1000 --out DIR [--size 128] [--seed 0]
  [--test-fraction 0.1] [--edits-per-image 2] [--captions-per-image 10] [--overwrite]``
* ``textedit data pack (--family birds --n 20000 | --from DIR) --out DIR [--size 64]
  [--edits-per-image 4] [--workers 2] [--overwrite]``
* ``textedit data info DIR [--layout auto|folder|cub|oxford102|packed] [--verify] [--json]``
* ``textedit data convert celeba --captions caps.txt --images img_align_celeba --out DIR
  [--partition list_eval_partition.txt] [--sentences join|each] [--overwrite]``
* ``textedit data convert deepfashion --language language_original.mat --index ind.mat
  --images CATEGORY_BENCHMARK_ROOT --out DIR [--overwrite]``
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "data",
        help="generate a data set with ground-truth edits, inspect a data set, convert captions",
        description="Work with data sets: generate one with true edits, print what a data "
        "set folder holds, or convert CelebA / DeepFashion captions to the generic layout.",
    )
    verbs = p.add_subparsers(dest="data_command", metavar="<action>")

    g = verbs.add_parser(
        "generate",
        help="write a generated data set (images, captions, masks, true edits)",
        description="Render a generated data set into a folder in the generic layout, with "
        "scene parameters, part masks and held-out edit pairs with their true edited images. "
        "The folder appears only when complete.",
    )
    g.add_argument("--family", required=True, choices=["birds", "flowers"], help="object family")
    g.add_argument("--n", type=int, required=True, help="number of images")
    g.add_argument("--out", required=True, help="output folder (must not exist, see --overwrite)")
    g.add_argument("--size", type=int, default=128, choices=[64, 128, 256], help="image side (default 128)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--test-fraction", type=float, default=0.1, help="share of images in the test split (default 0.1)")
    g.add_argument("--edits-per-image", type=int, default=2, help="edit pairs per test image (default 2)")
    g.add_argument("--captions-per-image", type=int, default=10, help="captions per image (default 10)")
    g.add_argument("--overwrite", action="store_true", help="replace OUT if it is a generated data set")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(run=run, data_command="generate")

    k = verbs.add_parser(
        "pack",
        help="pack a data set into memory-mapped arrays for fast training (data.type: packed)",
        description="Draw a generated data set (--family), or read a data set folder (--from), "
        "at one image size into memory-mapped arrays that training reads without decoding or "
        "drawing anything (data.type: packed). Generated data also gets K true edits per "
        "image for the paired losses. The folder appears only when complete; an interrupted "
        "pack continues when run again with the same arguments.",
    )
    what = k.add_mutually_exclusive_group(required=True)
    what.add_argument("--family", choices=["birds", "flowers"], help="pack generated data of this family")
    what.add_argument("--from", dest="source", metavar="ROOT", help="pack the data set folder ROOT")
    k.add_argument("--out", required=True, help="output folder (must not exist, see --overwrite)")
    k.add_argument("--size", type=int, default=64, help="image side (default 64)")
    # the generated-only options default to None, so that one given beside --from is refused
    k.add_argument("--n", type=int, help="generated: number of images (default 20000, data.num_images)")
    k.add_argument("--seed", type=int, help="generated: the data set's seed (default 0, data.data_seed)")
    k.add_argument("--test-fraction", type=float, help="generated: share of test images (default 0.1)")
    k.add_argument("--captions-per-image", type=int, help="generated: captions per image (default 10)")
    k.add_argument("--edits-per-image", type=int, help="generated: true edits per image for the paired losses (default 4; 0: none)")
    k.add_argument("--layout", default="auto", choices=["auto", "folder", "cub", "oxford102"], help="--from: the folder's layout")
    k.add_argument("--workers", type=int, default=0, help="processes drawing or reading images (default 0: this one)")
    k.add_argument("--overwrite", action="store_true", help="replace OUT if it is a packed data set")
    k.add_argument("--quiet", action="store_true", help="no progress bar")
    k.set_defaults(run=run, data_command="pack")

    i = verbs.add_parser(
        "info",
        help="print the splits, counts and vocabulary size of a data set folder",
        description="Describe the data set in a folder (generic layout, CUB in AttnGAN's "
        "layout, Oxford-102 in Reed's, or packed by 'textedit data pack'): images and captions per split, vocabulary size of "
        "the training captions, missing images and, with --verify, unreadable ones.",
    )
    i.add_argument("root", help="data set folder")
    i.add_argument("--layout", default="auto", choices=["auto", "folder", "cub", "oxford102", "packed"])
    i.add_argument("--verify", action="store_true", help="open every image (slow)")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(run=run, data_command="info")

    c = verbs.add_parser(
        "convert",
        help="convert CelebA or DeepFashion captions into the generic layout",
        description="Write captions.jsonl and dataset.json for CelebA (Text2FaceGAN captions) "
        "or DeepFashion (FashionGAN sentences); images stay where they are.",
    )
    sources = c.add_subparsers(dest="source", metavar="<source>")
    ce = sources.add_parser("celeba", help="CelebA with Text2FaceGAN's caps.txt")
    ce.add_argument("--captions", required=True, help="Text2FaceGAN caps.txt")
    ce.add_argument("--images", required=True, help="CelebA image folder (img_align_celeba)")
    ce.add_argument("--partition", help="list_eval_partition.txt (default: all train)")
    ce.add_argument("--sentences", default="join", choices=["join", "each"],
                    help="one caption of all sentences (join, default) or one per sentence")
    ce.add_argument("--out", required=True, help="output folder")
    ce.add_argument("--overwrite", action="store_true")
    ce.set_defaults(run=run, data_command="convert")
    df = sources.add_parser("deepfashion", help="DeepFashion with FashionGAN's language_original.mat")
    df.add_argument("--language", required=True, help="language_original.mat")
    df.add_argument("--index", required=True, help="ind.mat")
    df.add_argument("--images", required=True, help="the folder of DeepFashion's Category and Attribute Prediction Benchmark, holding img/")
    df.add_argument("--out", required=True, help="output folder")
    df.add_argument("--overwrite", action="store_true")
    df.set_defaults(run=run, data_command="convert")
    c.set_defaults(run=lambda args: c.print_help() or 2)  # no source named
    p.set_defaults(run=lambda args: p.print_help() or 2)


def run(args: argparse.Namespace) -> int:
    from textedit.training.interrupt import terminate_as_interrupt

    if args.data_command == "info":
        return _info(args)
    # SIGTERM (a scheduler) and SIGHUP (a closed terminal) stop as Ctrl-C does: generate
    # removes its temporary folder, pack keeps what it packed for the same command to resume
    with terminate_as_interrupt():
        if args.data_command == "generate":
            return _generate(args)
        if args.data_command == "pack":
            try:
                return _pack(args)
            except KeyboardInterrupt:
                print("interrupted: the rows packed so far are kept; run the same command again to "
                      "continue (--overwrite starts afresh)", file=sys.stderr)
                raise
        return _convert(args)


def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from textedit.data.synthetic.data import SyntheticSpec
    from textedit.data.synthetic.writer import check_output, generate_dataset

    spec = SyntheticSpec(
        family=args.family,
        n=args.n,
        seed=args.seed,
        test_fraction=args.test_fraction,
        captions_per_image=args.captions_per_image,
        edits_per_image=args.edits_per_image,
    )
    check_output(args.out, args.overwrite)  # before the progress bar appears
    with tqdm(total=spec.n, unit="img", desc=f"{args.family} {args.size}px", disable=args.quiet) as bar:
        try:
            manifest = generate_dataset(args.out, spec, args.size, overwrite=args.overwrite, progress=bar.update)
        except OSError as exc:  # a write into the temporary folder (a full disk) names no file
            if exc.filename is None:
                exc.filename = f"{args.out} (the unfinished data set was removed)"
            raise
    c = manifest["counts"]
    print(f"wrote {args.out}: {c['train']} train + {c['test']} test images, {c['edits']} edit pairs")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from textedit.data.packed import pack_folder, pack_generated
    from textedit.data.synthetic.data import SyntheticSpec
    from textedit.errors import InputError

    if args.workers < 0:
        raise InputError(f"--workers must be at least 0, got {args.workers}")
    common = dict(image_size=args.size, workers=args.workers, overwrite=args.overwrite)
    # left out, the spec's own defaults and pack_generated's (n: the training configs' 20 000)
    given = {
        name: getattr(args, name)
        for name in ("n", "seed", "test_fraction", "captions_per_image", "edits_per_image")
        if getattr(args, name) is not None
    }
    if args.family:
        true_edits = {"edits_per_image": given.pop("edits_per_image")} if "edits_per_image" in given else {}
        spec = SyntheticSpec(family=args.family, **{"n": 20000, **given})  # the spec's own edits are test pairs
        with tqdm(total=spec.n, unit="img", desc=f"packing {args.family} {args.size}px", disable=args.quiet) as bar:
            manifest = pack_generated(args.out, spec, progress=bar.update, **true_edits, **common)
    elif given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise InputError(
            f"{flags} describe generated data (--family); a folder given with --from is packed as "
            f"it is, with its own images, splits and captions, and no true edits: leave them out"
        )
    else:
        with tqdm(unit="img", desc=f"packing {args.source}", disable=args.quiet) as bar:
            manifest = pack_folder(args.out, args.source, layout=args.layout, progress=bar.update, **common)
    counts = ", ".join(f"{n} {split}" for split, n in manifest["counts"].items())
    edits = f", {manifest['edits_per_image']} true edits per image" if manifest["edits_per_image"] else ""
    print(f"wrote {args.out}: {counts} images at {manifest['image_size']} px{edits}")
    print(f"train from it with: data.type=packed data.root={args.out}")
    return 0


def collect_info(root: str, layout: str = "auto", verify: bool = False) -> dict[str, Any]:
    """What ``textedit data info`` prints, as a dict."""
    from pathlib import Path

    from textedit.data.detect import detect_layout, open_dataset
    from textedit.data.folder import read_manifest
    from textedit.data.packed import read_packed_manifest
    from textedit.errors import InputError

    layout = detect_layout(root) if layout == "auto" else layout
    info: dict[str, Any] = {"root": str(root), "layout": layout, "splits": {}}
    packed = read_packed_manifest(root) if layout == "packed" else None
    size = packed["image_size"] if packed else 256  # a packed set is read at its own size
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = open_dataset(root, layout=layout, split=_any_split(root, layout), image_size=size)
        for split in first.splits:
            try:
                ds = open_dataset(root, split=split, layout=layout, image_size=size)
            except InputError as exc:  # this split alone unusable (every image missing): said, not fatal
                info["splits"][split] = {"images": 0, "captions": 0, "captions_per_image": [0, 0, 0],
                                         "skipped": 0, "error": str(exc)}
                continue
            if verify:
                ds.verify()
            counts = [len(r.captions) for r in ds.records] or [0]  # [0]: every image skipped
            info["splits"][split] = {
                "images": len(ds),
                "captions": sum(counts),
                "captions_per_image": [min(counts), round(sum(counts) / len(counts), 2), max(counts)],
                "skipped": len(ds.skipped),
            }
    info["warnings"] = _unique(str(w.message) for w in caught)
    info["vocabulary_size"] = len(first.build_vocabulary()) if first.captions("train") else None
    if packed:
        info["packed"] = {k: packed[k] for k in ("image_size", "edits_per_image", "family", "source")}
        info["packed"]["unreadable"] = len(packed.get("skipped", []))  # left out when packed
        return info
    manifest = read_manifest(root) if layout == "folder" else None
    if manifest:
        info["manifest"] = {k: v for k, v in manifest.items() if k != "spec"}
    edits = Path(root) / "edits.jsonl"
    if edits.is_file():
        info["edit_pairs"] = sum(1 for line in edits.read_text(encoding="utf-8").splitlines() if line.strip())
    return info


def _unique(messages: Any) -> list[str]:
    return list(dict.fromkeys(messages))


def _any_split(root: str, layout: str) -> str:
    if layout == "packed":
        from textedit.data.packed import read_packed_manifest

        return next(iter(read_packed_manifest(root)["counts"]))
    if layout != "folder":
        return "train"
    from textedit.data.folder import read_folder
    from textedit.errors import InputError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = read_folder(root)
    if not records:
        raise InputError(f"{root} holds no image with a caption; see docs/data.md for the folder layout")
    return records[0].split


def _info(args: argparse.Namespace) -> int:
    info = collect_info(args.root, args.layout, args.verify)
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
        return 0
    print(f"{info['root']} ({info['layout']} layout)")
    for split, s in info["splits"].items():
        if "error" in s:
            print(f"  {split:<10} unusable: {s['error']}")
            continue
        lo, mean, hi = s["captions_per_image"]
        skipped = f", {s['skipped']} skipped" if s["skipped"] else ""
        print(f"  {split:<10} {s['images']:>7} images {s['captions']:>8} captions "
              f"({lo}-{hi} per image, mean {mean}){skipped}")
    if info["vocabulary_size"] is not None:
        print(f"  vocabulary of the training captions: {info['vocabulary_size']} ids (with <pad>, <unk>)")
    if "edit_pairs" in info:
        print(f"  edit pairs: {info['edit_pairs']}")
    p = info.get("packed")
    if p:
        edits = f", {p['edits_per_image']} true edits per image" if p["edits_per_image"] else ""
        unreadable = f" ({p['unreadable']} unreadable images left out)" if p["unreadable"] else ""
        source = p["source"]
        origin = f"the folder {source['root']} ({source['layout']} layout)" if source["type"] == "folder" else f"{source['type']} data"
        print(f"  packed at {p['image_size']} px{edits}, from {origin}{unreadable}")
    m = info.get("manifest")
    if m and "generator" in m:
        print(f"  generated: family {m['family']}, {m['image_size']} px, seed {m['seed']}, "
              f"generator version {m['generator_version']}")
    for message in info["warnings"]:
        print(f"warning: {message}", file=sys.stderr)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from textedit.data.convert import convert_celeba, convert_deepfashion

    if args.source == "celeba":
        manifest = convert_celeba(args.captions, args.images, args.out, args.partition, args.sentences, args.overwrite)
    else:
        manifest = convert_deepfashion(args.language, args.index, args.images, args.out, args.overwrite)
    counts = ", ".join(f"{n} {s}" for s, n in manifest["counts"].items())
    print(f"wrote {args.out}/captions.jsonl ({counts} images)")
    return 0
