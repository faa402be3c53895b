"""GAN-INT-CLS presets at the paper's 64 px: ``gan_int_cls_64`` (widths for a CPU,
``mimnet_64``'s text encoder widths) and ``gan_int_cls_64_paper`` (the reference's widths:
ngf = 128, ndf = 64, nt = 128, nz = 100)."""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "gan_int_cls_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        generator=dict(condition_dim=64, noise_dim=64, base_channels=16, max_channels=128),
        discriminator=dict(condition_dim=64, base_channels=16, max_channels=128),
    ),
    "gan_int_cls_64_paper": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=300, hidden_dim=128),
        generator=dict(condition_dim=128, noise_dim=100, base_channels=128, max_channels=1024),
        discriminator=dict(condition_dim=128, base_channels=64, max_channels=512),
    ),
}

_DESCRIPTIONS = {
    "gan_int_cls_64": "GAN-INT-CLS (text to image), 64 px, widths for a CPU (mimnet_64's text encoder widths)",
    "gan_int_cls_64_paper": "GAN-INT-CLS (text to image) with the reference's widths, 64 px",
}

register_width_presets(
    "gan_int_cls", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "gan_int_cls", "discriminator": "sisgan"}, __name__
)
