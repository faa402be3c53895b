"""Write a component, register it in code, and swap it into a model (a plug-in in 40 lines).

    python examples/tiny_plugin.py

``CentreBoxLocalizer`` decides *where* to edit without looking at the text: a box in the
middle of the image (β = 1 inside, 0 outside). Registering it makes it a name configs can
use (``localizer={"type": "centre_box"}``); ``with_components`` swaps it into an existing
(e.g. the bundled, trained) model. To ship it as its own package, declare it in the entry
point group ``textedit.localizers`` instead: see ``plugins/textedit-plugin-example`` and
``docs/guides/writing-a-plugin.md``.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor

import textedit
from textedit.interfaces import Localization, fuse
from textedit.pretrained import DEFAULT_MODEL
from textedit.testing import run_conformance


class CentreBoxLocalizerConfig(textedit.ComponentConfig):
    channels: int = Field(128, gt=0, description="Channels c of the feature maps it fuses.")
    texture_dim: int = Field(128, gt=0, description="Width d of the global texture (unused).")
    margin: float = Field(0.25, ge=0, lt=0.5, description="Part of each side left unedited.")


@textedit.register_localizer("centre_box")
class CentreBoxLocalizer(textedit.Localizer):
    """Edits a centred box only: β = 1 inside, 0 outside (no parameters)."""

    config_class = CentreBoxLocalizerConfig

    @classmethod
    def example_config(cls) -> CentreBoxLocalizerConfig:
        return cls.config_class(channels=6, texture_dim=4)

    @property
    def channels(self) -> int:
        return self.config.channels

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    def forward(self, coarse: Tensor, original: Tensor, texture: Tensor) -> Localization:
        b, _, h, w = coarse.shape
        weights = coarse.new_zeros(b, 1, h, w)
        top, left = round(h * self.config.margin), round(w * self.config.margin)
        weights[..., top : h - top, left : w - left] = 1
        return Localization(weights, fuse(weights, coarse, original))


def main() -> None:
    run_conformance(CentreBoxLocalizer(CentreBoxLocalizer.example_config()))  # the contract holds
    print(
        "centre_box passes the conformance kit; localizers now:",
        textedit.list_components("localizer"),
    )

    torch.manual_seed(0)
    built = textedit.create_model("mimnet_64", localizer={"type": "centre_box", "margin": 0.3})
    print("built by name:", type(built.localizer).__name__)

    bundled = DEFAULT_MODEL in textedit.list_pretrained()
    base = textedit.load() if bundled else textedit.create_model("mimnet_64")  # untrained stand-in
    box = CentreBoxLocalizer(
        {"channels": base.localizer.channels, "texture_dim": base.localizer.texture_dim}
    )
    variant = base.with_components(localizer=box)
    image = torch.rand(1, 3, base.image_size, base.image_size) * 2 - 1
    out = variant.edit(image, "this bird has a red head")
    rows = [
        "".join("#" if v > 0.5 else "." for v in row) for row in out.localization[0, 0].tolist()
    ]
    # the model's edit map: the localizer's β where the generator composites with it alone;
    # a generator that also masks its output (the bundled model's) narrows it to the bird
    print("where the variant edits (# = edit map above 0.5):", *rows, sep="\n  ")


if __name__ == "__main__":
    main()
