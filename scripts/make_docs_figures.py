"""Regenerate the figures of the README and ``docs/guides/editing.md`` (``docs/assets/editing/``).

    python scripts/make_docs_figures.py                  # with the bundled model
    python scripts/make_docs_figures.py --standin        # nothing bundled yet: untrained stand-in

Writes ``before_after.png`` (inputs and edits), ``explanation.png`` (the README command's
explanation figure), ``photos.png`` (the example photos edited, each edit beside the map of
where the model edited; the change inside and outside that map is printed), ``keep_size.png``
(a photo edited with --keep-size) and ``SOURCE.txt`` (which model made them; a test checks it
is the bundled model once one is bundled).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "assets" / "editing"
IMAGES = ROOT / "examples" / "images"
#: the README's first command edits this image with this description
README_IMAGE = "bird_128.png"
README_TEXT = "this bird has a red head and white wings"
PHOTOS = ("flower_photo.jpg", "grace_hopper.jpg")
DESCRIPTIONS = (
    README_TEXT,
    "this bird has a blue body and a yellow belly",
    "a bird with a black crown and a long brown tail",
)


def open_model(name: str | None, standin: bool):
    import torch

    import textedit
    from textedit.pretrained import DEFAULT_MODEL

    if name or DEFAULT_MODEL in textedit.list_pretrained():
        model_name = name or DEFAULT_MODEL
        return textedit.load(model_name).eval(), model_name
    if not standin:
        sys.exit(
            f"make_docs_figures: no bundled model {DEFAULT_MODEL!r}; bundle it first "
            f"(scripts/bundle_model.py RUN_DIR), pass --model, or --standin for placeholder figures"
        )
    torch.manual_seed(0)
    return textedit.create_model("mimnet_64").eval(), "stand-in (untrained mimnet_64, seed 0)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", help="bundled model name or saved model folder (default: the bundled one)"
    )
    parser.add_argument(
        "--standin", action="store_true", help="use an untrained stand-in when nothing is bundled"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from textedit.editing.explain import explanation_figure
    from textedit.editing.result import save_image
    from textedit.utils.atomic import atomic_save
    from textedit.visualize import heatmap, labelled_grid

    model, model_name = open_model(args.model, args.standin)
    args.out.mkdir(parents=True, exist_ok=True)
    if model_name.startswith("stand-in"):
        save = save_image
        save_image = lambda picture, path: save(placeholder_banner(picture), path)

    # the README command's explanation figure
    result = model.edit(IMAGES / README_IMAGE, README_TEXT)
    figure = result.explanation(0)
    figure.source = f"examples/images/{README_IMAGE}"
    save_image(explanation_figure(figure), args.out / "explanation.png")

    # inputs x descriptions
    inputs = ["bird_128.png", "bird_64.png", "bird_wide_200x136.png"]
    rows, captions = [], []
    for name in inputs:
        batch = model.edit(IMAGES / name, list(DESCRIPTIONS))
        rows.append([_pil(batch.inputs[0]), *batch.pil_images])
        captions.append(f"examples/images/{name}")
    titles = ["input"] + [_title(d) for d in DESCRIPTIONS]
    save_image(
        labelled_grid(rows, titles, captions, cell=128, caption_width=60),
        args.out / "before_after.png",
    )

    # the example photos: what the model does to pictures unlike its training drawings
    rows, captions = [], []
    for name in PHOTOS:
        batch = model.edit(IMAGES / name, list(DESCRIPTIONS))
        row = [_pil(batch.inputs[0])]
        for k, picture in enumerate(batch.pil_images):
            row.append(picture)
            if batch.localization is not None:
                row.append(heatmap(batch.localization[k], batch.fine.shape[-1]))
            change = (batch.fine[k] - batch.inputs[k].to(batch.fine.dtype)).abs().mean(0) / 2
            where = _edited_region(batch, k, change.shape[-1])
            print(
                f"{name} / {DESCRIPTIONS[k]!r}: mean change {float(change.mean()):.4f}; "
                f"{float(where.float().mean()):.1%} of pixels inside the edit map (>0.5), change outside "
                f"it {float(change[~where].mean()) if (~where).any() else 0.0:.4f}"
            )
        rows.append(row)
        captions.append(f"examples/images/{name}")
    titles = ["input"]
    for d in DESCRIPTIONS:
        titles.append(_title(d))
        if rows and len(rows[0]) > 1 + len(DESCRIPTIONS):
            titles.append("edit map")
    save_image(
        labelled_grid(rows, titles, captions, cell=128, caption_width=60),
        args.out / "photos.png",
    )

    # a real photo at its original size
    photo = model.edit(IMAGES / "flower_photo.jpg", README_TEXT)
    original = photo.originals[0]
    kept = photo.at_original_size(0)
    titles = [
        f"original ({original.width}x{original.height})",
        f"--keep-size ({kept.width}x{kept.height})",
    ]
    save_image(side_by_side([original, kept], titles), args.out / "keep_size.png")

    note = (
        "Figures of the README and docs/guides/editing.md, generated by\n"
        "`python scripts/make_docs_figures.py`; do not edit by hand.\n\n"
        f"model: {model_name}\n"
    )
    atomic_save(args.out / "SOURCE.txt", lambda tmp: tmp.write_text(note, encoding="utf-8"))
    print(f"wrote {sorted(p.name for p in args.out.iterdir())} to {args.out} with {model_name}")
    return 0


def placeholder_banner(picture):
    """``picture`` under a red line saying it was made by an untrained stand-in."""
    from PIL import Image, ImageDraw

    from textedit.editing.explain import _font

    sheet = Image.new("RGB", (picture.width, picture.height + 22), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (6, 4),
        "placeholder: made by an untrained stand-in, not the bundled model",
        fill=(190, 0, 0),
        font=_font(13),
    )
    sheet.paste(picture, (0, 22))
    return sheet


def side_by_side(images, titles, width: int = 320):
    """Images scaled to ``width`` (aspect kept) in a row, each under its title."""
    from PIL import Image, ImageDraw

    from textedit.editing.explain import _font

    scaled = [
        im.resize((width, round(im.height * width / im.width)), Image.LANCZOS) for im in images
    ]
    pad, title_h = 6, 20
    sheet = Image.new(
        "RGB",
        (len(scaled) * (width + pad) + pad, title_h + max(i.height for i in scaled) + 2 * pad),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    for k, (image, title) in enumerate(zip(scaled, titles)):
        x = pad + k * (width + pad)
        draw.text((x, pad), title, fill="black", font=_font(13))
        sheet.paste(image, (x, pad + title_h))
    return sheet


def _title(description: str) -> str:
    """A grid column title: the description, cut to 22 characters."""
    return f"“{description[:22]}…”" if len(description) > 23 else f"“{description}”"


def _edited_region(batch, k: int, size: int):
    """Pixels where the edit map of item ``k`` exceeds one half, at ``size``."""
    import torch

    if batch.localization is None:
        return torch.ones(size, size, dtype=torch.bool)
    weights = torch.nn.functional.interpolate(batch.localization[k : k + 1].float(), size=(size, size))
    return weights[0, 0] > 0.5


def _pil(tensor):
    from textedit.data.images import tensor_to_pil

    return tensor_to_pil(tensor)


if __name__ == "__main__":
    sys.exit(main())
