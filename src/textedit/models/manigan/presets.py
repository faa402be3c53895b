"""ManiGAN presets: ``manigan_256`` (the reference's widths for birds, 256 px, three stages)
and ``manigan_64`` (CPU-sized: three stages at 16, 32 and 64 px with narrower widths, and
``mimnet_64``'s text encoder widths)."""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "manigan_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        generator=dict(
            condition_dim=64, noise_dim=64, base_channels=16, image_feature_dim=64, acm_channels=32
        ),
        discriminator=dict(base_channels=16, max_channels=128),
    ),
    "manigan_256": dict(
        image_size=256,
        text_encoder=dict(embedding_dim=300, hidden_dim=128),
        generator=dict(
            condition_dim=100, noise_dim=100, base_channels=32, image_feature_dim=256, acm_channels=128
        ),
        discriminator=dict(base_channels=64, max_channels=512),
    ),
}


_DESCRIPTIONS = {
    "manigan_64": "ManiGAN's main module, 64 px in three stages, widths for a CPU (mimnet_64's text encoder widths)",
    "manigan_256": "ManiGAN's main module with the reference's widths for birds, 256 px in three stages",
}

register_width_presets(
    "manigan", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "manigan", "discriminator": "attngan"}, __name__
)
