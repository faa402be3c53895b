"""AttnGAN presets: ``attngan_256`` (the reference's widths for birds, 64 -> 128 -> 256 px)
and ``attngan_64`` (CPU-sized: three stages at 16, 32 and 64 px with narrower widths, and
``mimnet_64``'s text encoder widths)."""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "attngan_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        generator=dict(condition_dim=64, noise_dim=64, base_channels=16),
        discriminator=dict(base_channels=16, max_channels=128),
    ),
    "attngan_256": dict(
        image_size=256,
        text_encoder=dict(embedding_dim=300, hidden_dim=128),
        generator=dict(condition_dim=100, noise_dim=100, base_channels=32),
        discriminator=dict(base_channels=64, max_channels=512),
    ),
}


_DESCRIPTIONS = {
    "attngan_64": "AttnGAN (text to image), 64 px in three stages, widths for a CPU (mimnet_64's text encoder widths)",
    "attngan_256": "AttnGAN (text to image) with the reference's widths for birds, 256 px in three stages",
}

register_width_presets(
    "attngan", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "attngan", "discriminator": "attngan"}, __name__
)
