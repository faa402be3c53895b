"""``textedit generate``: draw images from descriptions with a text-to-image model."""

from __future__ import annotations

import argparse
from typing import Any

_DESCRIPTION = """\
Draw images of descriptions with a trained text-to-image model (AttnGAN, StackGAN++,
GAN-INT-CLS, a plug-in's): --num-images per description. The images are numbered
k = 0, 1, ... over all descriptions in turn and image k is drawn from seed --seed + k, so
the same command draws the same images. Writes one PNG per image and generated.json (description,
seed and file of each) to --out.

Every description is checked before anything is drawn or written; existing files are
replaced only with --overwrite.

examples:
  textedit generate --model runs/attngan64_birds/model --text "this bird has a red head" --num-images 4
  textedit generate --model runs/stackgan64_birds/model --texts examples/descriptions.txt --out drawn/
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="draw images from descriptions with a text-to-image model",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, help="a saved text-to-image model folder (or a bundled name)")
    p.add_argument(
        "--text", action="append", default=[], metavar="TEXT",
        help='a description, e.g. "this bird has a red head" (repeatable)',
    )
    p.add_argument("--texts", metavar="FILE", help="a UTF-8 text file of descriptions, one per line")
    p.add_argument("--num-images", type=int, default=1, help="images per description (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first image (default: 0)")
    p.add_argument("--out", default="generated", help="output folder (default: generated)")
    p.add_argument("--batch-size", type=int, default=16, help="images per forward pass (default: 16)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    import re
    import warnings

    from tqdm import tqdm

    from textedit.editing.batch import check_writable, read_descriptions
    from textedit.editing.loading import load_for_generation
    from textedit.editing.text import EditWarning, check_descriptions
    from textedit.errors import InputError
    from textedit.interfaces.model import SEED_LIMIT
    from textedit.utils.atomic import atomic_write_text

    texts = list(args.text)
    if args.texts:
        texts += read_descriptions(args.texts)
    if not texts:
        raise InputError('give a description with --text "..." or a file of them with --texts FILE')
    if args.num_images < 1 or args.batch_size < 1:
        raise InputError("--num-images and --batch-size must be at least 1")
    if args.seed < 0 or args.seed + len(texts) * args.num_images > SEED_LIMIT:
        raise InputError(f"--seed must be at least 0 and its images' seeds below 2**63, got {args.seed}")
    out = check_writable(args.out)
    model = load_for_generation(args.model, args.device)
    infos, _ = check_descriptions(model.text_encoder, texts)  # every description, before drawing
    jobs = []
    for d, info in enumerate(infos):
        slug = re.sub(r"[^a-z0-9]+", "-", info.text.lower()).strip("-")[:40] or "description"
        for k in range(args.num_images):
            seed = args.seed + d * args.num_images + k
            jobs.append((info.text, seed, out / f"{d:03d}_{slug}_seed{seed}.png"))
    existing = [str(p) for _, _, p in jobs if p.exists()]
    if existing and not args.overwrite:
        raise InputError(
            f"{len(existing)} output file(s) exist, e.g. {existing[0]}; pass --overwrite to replace them"
        )
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(jobs), unit="image", disable=args.no_progress or len(jobs) == 1)
    for start in range(0, len(jobs), args.batch_size):
        chunk = jobs[start : start + args.batch_size]
        with warnings.catch_warnings():  # each description's notes were shown by the check
            warnings.simplefilter("ignore", EditWarning)
            result = model.generate([t for t, _, _ in chunk], seed=[s for _, s, _ in chunk])
        for i, (_, _, path) in enumerate(chunk):
            result.save(path, index=i)
        bar.update(len(chunk))
    bar.close()
    manifest = [{"description": t, "seed": s, "file": p.name} for t, s, p in jobs]
    atomic_write_text(out / "generated.json", json.dumps({"model": str(args.model), "images": manifest}, indent=2))
    print(f"{len(jobs)} image(s) of {len(infos)} description(s) in {out}")
    return 0
