"""TAGAN presets: ``tagan_128`` (the paper's widths, 128 px) and ``tagan_64`` (CPU-sized).

The 64-px preset narrows the paper's widths for a CPU and gives the text encoder and the
discriminator ``mimnet_64``'s widths, so that a comparison with MIM-Net differs in the
generator and the recipe only; its measured cost per step is in ``docs/evaluation.md``.
"""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "tagan_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        generator=dict(condition_dim=64, base_channels=16, max_channels=128),
        discriminator=dict(base_channels=16, max_channels=128, hidden_dim=64),
    ),
    "tagan_128": dict(
        image_size=128,
        text_encoder=dict(embedding_dim=300, hidden_dim=256),
        generator=dict(condition_dim=128, base_channels=64, max_channels=512),
        discriminator=dict(base_channels=64, max_channels=512, hidden_dim=256),
    ),
}


_DESCRIPTIONS = {
    "tagan_64": "TAGAN, 64 px, widths for a CPU (mimnet_64's text encoder and discriminator widths)",
    "tagan_128": "TAGAN as in the paper, 128 px",
}

register_width_presets("tagan", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "tagan", "discriminator": "tagan"}, __name__)
