"""The MIM-Net presets: ``mimnet_64`` (trains on a CPU), ``mimnet_128`` and ``mimnet_256``.

Widths are chosen for the CPU targets in ``docs/mimnet.md`` (edit latency, training
throughput, memory); every preset's vocabulary is :data:`DESCRIPTION_WORDS`, read with
:data:`DESCRIPTION_SYNONYMS`.
"""

from __future__ import annotations

from typing import Any

from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, memory, structure, generator, discriminator) fields
PRESET_WIDTHS: dict[str, dict[str, Any]] = {
    "mimnet_64": dict(
        image_size=64,
        text_encoder=dict(embedding_dim=128, hidden_dim=64),
        memory_bank=dict(num_slots=64, slot_dim=64),
        structure_extractor=dict(channels=16),
        generator=dict(feature_size=8, channels=64, base_channels=16),
        discriminator=dict(base_channels=16, max_channels=128, hidden_dim=64),
    ),
    "mimnet_128": dict(
        image_size=128,
        text_encoder=dict(embedding_dim=300, hidden_dim=128),
        memory_bank=dict(num_slots=128, slot_dim=128),
        structure_extractor=dict(channels=32),
        generator=dict(feature_size=16, channels=128, base_channels=16),
        discriminator=dict(base_channels=32, max_channels=256, hidden_dim=128),
    ),
    "mimnet_256": dict(
        image_size=256,
        text_encoder=dict(embedding_dim=300, hidden_dim=128),
        memory_bank=dict(num_slots=128, slot_dim=128),
        structure_extractor=dict(channels=32),
        generator=dict(feature_size=32, channels=128, base_channels=16),
        discriminator=dict(base_channels=32, max_channels=256, hidden_dim=128),
    ),
}


_DESCRIPTIONS = {
    "mimnet_64": "MIM-Net, 64 px in, 32/64 px out; small enough to train on a CPU",
    "mimnet_128": "MIM-Net as in the paper, 128 px in, 64/128 px out",
    "mimnet_256": "MIM-Net as in the paper, 256 px in, 128/256 px out",
}

_SLOT_TYPES = {
    "memory_bank": "key_value",
    "structure_extractor": "edge_cnn",
    "localizer": "tlu",
    "generator": "mimnet",
    "discriminator": "tagan",
}
register_width_presets("mimnet", PRESET_WIDTHS, _DESCRIPTIONS, _SLOT_TYPES, __name__)
