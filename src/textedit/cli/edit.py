"""``textedit edit``: edit an image (or a folder of images) as descriptions say."""

from __future__ import annotations

import argparse
import sys
from typing import Any

_DESCRIPTION = """\
Edit images with a trained model (the bundled one by default). One image and one
description, or a folder of images and a text file of descriptions (one per line): every
image is edited with every description, and an index.html gallery is written to --out.

Size policy: an image of any size and aspect is scaled so that its shorter side is the
model's resolution (64 px for the bundled model) and its centre square is edited. With
--keep-size the edit is put back onto the original at its original size: the change the
model made is scaled up and added (--composite difference, the default; detail outside
the change is the original's), or the upscaled edit is blended in with the model's edit map as a
soft mask (--composite mask); pixels outside the centre square stay exactly as they were.

Nothing is written until every input is checked; existing files are replaced only with
--overwrite. Images that cannot be read are skipped with a warning (refused with --strict).

examples:
  textedit edit --image examples/images/bird_128.png --text "this bird has a red head" --explain
  textedit edit --image examples/images --texts examples/descriptions.txt --out gallery/
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "edit",
        help="edit images as descriptions say (the main job)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--image", required=True, help="an image file, or a folder of images")
    p.add_argument(
        "--text",
        action="append",
        default=[],
        metavar="TEXT",
        help='a description, e.g. "this bird has a red head" (repeatable)',
    )
    p.add_argument(
        "--texts", metavar="FILE", help="a UTF-8 text file of descriptions, one per line"
    )
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument(
        "--model",
        help="a bundled model's name or a saved model folder (default: the bundled mimnet64_birds)",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="also write a figure per edit: input, boundary map, edit map, coarse, fine, "
        "attention of each word",
    )
    p.add_argument(
        "--keep-size",
        action="store_true",
        help="write each edit at its original's size (see above)",
    )
    p.add_argument(
        "--composite",
        choices=("difference", "mask"),
        default="difference",
        help="how --keep-size puts the edit back (default: difference)",
    )
    p.add_argument("--batch-size", type=int, default=8, help="edits per forward pass (default: 8)")
    p.add_argument(
        "--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N or mps"
    )
    p.add_argument(
        "--strict", action="store_true", help="refuse the run if any image cannot be read"
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from textedit.editing.batch import check_writable, find_images, read_descriptions, run_edits
    from textedit.editing.loading import load_for_editing
    from textedit.errors import InputError

    texts = list(args.text)
    if args.texts:
        texts += read_descriptions(args.texts)
    if not texts:
        raise InputError('give a description with --text "..." or a file of them with --texts FILE')
    images, ignored = find_images(args.image)
    check_writable(args.out)  # before the model loads: a bad --out fails in a second
    model = load_for_editing(args.model, args.device)
    warn = lambda message: print(f"warning: {message}", file=sys.stderr)
    summary = run_edits(
        model,
        images,
        texts,
        args.out,
        explain=args.explain,
        keep_size=args.keep_size,
        composite=args.composite,
        batch_size=args.batch_size,
        strict=args.strict,
        overwrite=args.overwrite,
        progress=not args.no_progress and len(images) * len(texts) > 1,
        model_name=str(args.model or "mimnet64_birds"),
        ignored=ignored,
        warn=warn,
    )
    for note in summary.notes:
        warn(note)
    if summary.ignored:
        print(
            f"ignored {len(summary.ignored)} file(s) without an image suffix: "
            f"{', '.join(summary.ignored[:5])}{' ...' if len(summary.ignored) > 5 else ''}",
            file=sys.stderr,
        )
    if summary.edits == 1:
        print(f"edited image: {summary.edited[0]}")
        if summary.explanations:
            print(f"explanation: {summary.explanations[0]}")
    else:
        print(
            f"{summary.images} image(s) × {summary.descriptions} description(s): "
            f"{summary.edits} edits in {summary.out}"
        )
    print(f"gallery: {summary.gallery}")
    if summary.skipped:
        print(
            f"skipped {len(summary.skipped)} of {len(images)} image(s) that could not be read "
            f"(see the warnings above)",
            file=sys.stderr,
        )
    return 0
