"""SISGAN presets: ``sisgan_128`` (the reference's widths at 128 px) and ``sisgan_64``
(CPU-sized: the reference trains at 64 px with its full widths; ``sisgan_64`` keeps its
depth, narrows its widths and gives the text encoder ``mimnet_64``'s widths)."""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "sisgan_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        generator=dict(condition_dim=64, base_channels=16, max_channels=128),
        discriminator=dict(condition_dim=64, base_channels=16, max_channels=128),
    ),
    "sisgan_128": dict(
        image_size=128,
        text_encoder=dict(embedding_dim=300, hidden_dim=150),
        generator=dict(condition_dim=128, base_channels=128, max_channels=512),
        discriminator=dict(condition_dim=128, base_channels=64, max_channels=512),
    ),
}


_DESCRIPTIONS = {
    "sisgan_64": "SISGAN, 64 px, widths for a CPU (mimnet_64's text encoder widths)",
    "sisgan_128": "SISGAN with the reference's widths, 128 px",
}

register_width_presets("sisgan", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "sisgan", "discriminator": "sisgan"}, __name__)
