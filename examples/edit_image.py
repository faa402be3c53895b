"""Edit an example image with the bundled model; save the edit and its explanation figure.

    python examples/edit_image.py        # writes out/edited.png, out/explanation.png, ...
    python examples/edit_image.py --model runs/mimnet64_birds --out my_out

``model.edit`` takes a path, a PIL image (any size, mode or aspect) or a ``(b, 3, H, H)``
tensor in [-1, 1], and one description or a list.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import textedit
from textedit.pretrained import DEFAULT_MODEL

HERE = Path(__file__).resolve().parent


def open_model(name: str | None):
    """The bundled model (or ``name``); an untrained stand-in when none is bundled."""
    if name or DEFAULT_MODEL in textedit.list_pretrained():
        return textedit.load(name)
    print(
        "note: no bundled model in this copy of textedit; using an untrained mimnet_64 "
        "stand-in, so the edit itself is noise (the explanation shows what it would show)"
    )
    return textedit.create_model("mimnet_64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="bundled model name or saved model folder")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()

    model = open_model(args.model)
    result = model.edit(
        HERE / "images" / "bird_128.png", "this bird has a red head and white wings"
    )
    print(
        f"the model read {' '.join(result.words[0])!r}; "
        f"unknown words: {list(result.unknown_words[0])}"
    )
    print(
        f"result {result.image.size} px; TLU map {tuple(result.localization.shape)}, "
        f"word attention {tuple(result.word_attention.shape)}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    result.save(args.out / "edited.png")
    result.save(
        args.out / "edited_original_size.png", keep_size=True
    )  # back onto the 128-px original
    result.explain().save(args.out / "explanation.png")
    # several descriptions of one image in one batch
    batch = model.edit(
        HERE / "images" / "bird_64.png", ["a bird with a blue head", "a bird with yellow wings"]
    )
    for k, picture in enumerate(batch.pil_images):
        picture.save(args.out / f"variant_{k}.png")
    print(f"wrote {sorted(p.name for p in args.out.iterdir())} to {args.out}")


if __name__ == "__main__":
    main()
