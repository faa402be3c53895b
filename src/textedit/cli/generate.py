"""``textedit generate``: draw images from descriptions with a text-to-image model."""

from __future__ import annotations

import argparse
from typing import Any

_DESCRIPTION = """\
Draw images of descriptions with a trained text-to-image model (AttnGAN, StackGAN++,
GAN-INT-CLS, a plug-in's): --num-images per description. The images are numbered
k = 0, 1, ... over all descriptions in turn and image k is drawn from seed --seed + k, so
the same command draws the same images. Writes one PNG per image and generated.json (description,
seed, model, weights digest and PNG digest of each file, across every run into --out, updated
after each batch) to --out.

Every description is checked before anything is drawn or written. An image generated.json
records as drawn with the same description, seed and weights, and unchanged since, is kept,
so a command run again (after Ctrl-C, say) draws only what is missing; other existing files
are replaced only with --overwrite, which draws everything again.

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
    from textedit.utils.digest import file_digest, weights_digest
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
    manifest_path = out / _MANIFEST
    recorded = _read_manifest(manifest_path)
    model = load_for_generation(args.model, args.device)
    infos, _ = check_descriptions(model.text_encoder, texts)  # every description, before drawing
    digest = weights_digest(model)
    jobs = []  # (the image's manifest entry, its path)
    for d, info in enumerate(infos):
        slug = re.sub(r"[^a-z0-9]+", "-", info.text.lower()).strip("-")[:40] or "description"
        for k in range(args.num_images):
            seed = args.seed + d * args.num_images + k
            path = out / f"{d:03d}_{slug}_seed{seed}.png"
            entry = {"file": path.name, "description": info.text, "seed": seed, "model": str(args.model), "weights": digest}
            jobs.append((entry, path))
    def drawn_before(entry: dict[str, Any], path: Any) -> bool:
        """``path`` is the image this command draws there: recorded with the same
        description, seed and weights (not how the model was named), untouched since."""
        saved = recorded.get(entry["file"], {})
        same = all(saved.get(k) == entry[k] for k in ("description", "seed", "weights"))
        return same and path.is_file() and saved.get("png") == file_digest(path)

    drawn = set() if args.overwrite else {e["file"] for e, p in jobs if drawn_before(e, p)}
    others = [str(p) for e, p in jobs if p.exists() and e["file"] not in drawn]
    if others and not args.overwrite:
        raise InputError(
            f"{len(others)} output file(s) exist that this command did not draw (another description, "
            f"seed or model), e.g. {others[0]}; pass --overwrite to replace them, or choose another --out"
        )
    todo = [(e, p) for e, p in jobs if e["file"] not in drawn]
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(todo), unit="image", disable=args.no_progress or len(todo) <= 1)
    for start in range(0, len(todo), args.batch_size):
        chunk = todo[start : start + args.batch_size]
        with warnings.catch_warnings():  # each description's notes were shown by the check
            warnings.simplefilter("ignore", EditWarning)
            result = model.generate([e["description"] for e, _ in chunk], seed=[e["seed"] for e, _ in chunk])
        for i, (entry, path) in enumerate(chunk):
            result.save(path, index=i)
            recorded[entry["file"]] = {**entry, "png": file_digest(path)}
        atomic_write_text(manifest_path, json.dumps({"images": list(recorded.values())}, indent=2) + "\n")
        bar.update(len(chunk))
    bar.close()
    kept = f" ({len(drawn)} drawn before with these weights, kept)" if drawn else ""
    print(f"{len(jobs)} image(s) of {len(infos)} description(s) in {out}{kept}")
    return 0


_MANIFEST = "generated.json"


def _read_manifest(path: Any) -> dict[str, dict[str, Any]]:
    """The images ``generated.json`` records, by file name (none without the file)."""
    import json

    from textedit.errors import InputError

    if not path.exists():
        return {}
    try:
        images = json.loads(path.read_text(encoding="utf-8"))["images"]
        return {str(e["file"]): e for e in images}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path} cannot be read ({exc}); move it away (the images stay; they are then drawn "
            f"again only with --overwrite)"
        ) from None
