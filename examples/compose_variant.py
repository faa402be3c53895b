"""Build mimnet_64 and a variant that differs by ONE config change, and edit with both.

The variant swaps the text encoder for the sentence-transformers plug-in when it is
installed (``pip install plugins/textedit-sentence-transformers``); the memory bank,
generator and discriminator re-wire to its width by themselves. Without the plug-in it
swaps the localizer (TLU -> ``everywhere``) instead.

    python examples/compose_variant.py
"""

from __future__ import annotations

import torch

import textedit


def variant_override() -> dict:
    """The one config change: the plug-in's text encoder if installed, else a localizer."""
    if "sentence_transformer" in textedit.list_components("text_encoder"):
        return {"text_encoder": {"type": "sentence_transformer"}}
    return {"localizer": {"type": "everywhere"}}


def main() -> None:
    torch.manual_seed(0)
    base = textedit.create_model("mimnet_64")
    override = variant_override()
    variant = textedit.create_model("mimnet_64", **override)

    size = base.image_size
    image = torch.rand(1, 3, size, size) * 2 - 1  # stand-in for a real (1, 3, 64, 64) photo
    texts = ["this bird has a red head and white wings"]
    for name, model in (("mimnet_64", base), (f"mimnet_64 + {override}", variant)):
        out = model.edit(image, texts)
        words = model.text_encoder.word_dim
        print(
            f"{name}: text {type(model.text_encoder).__name__} ({words}-d words) -> memory "
            f"word_dim {model.memory_bank.word_dim}, localizer {type(model.localizer).__name__}; "
            f"images {[tuple(i.shape) for i in out.images]}, "
            f"mean |edit - input| {(out.fine - image).abs().mean():.3f}"
        )


if __name__ == "__main__":
    main()
