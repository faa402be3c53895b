"""A tiny MIM-Net config shared by the model tests."""

from __future__ import annotations

import pytest

WORDS = ("a", "bird", "red", "blue", "white", "wings", "head", "with", "small", "yellow")


def tiny_config(**overrides):
    config = {
        "image_size": 16,
        "text_encoder": {
            "type": "bilstm",
            "vocabulary": list(WORDS),
            "embedding_dim": 8,
            "hidden_dim": 6,
        },
        "memory_bank": {"type": "key_value", "num_slots": 5, "slot_dim": 4},
        "structure_extractor": {"type": "edge_cnn", "channels": 4},
        "localizer": {"type": "tlu"},
        "generator": {"type": "mimnet", "feature_size": 4, "channels": 8, "base_channels": 4},
        "discriminator": {
            "type": "tagan",
            "base_channels": 4,
            "max_channels": 8,
            "num_layers": 2,
            "hidden_dim": 4,
        },
    }
    config.update(overrides)
    return config


@pytest.fixture(name="tiny_config")
def tiny_config_fixture():
    """The function ``tiny_config(**overrides) -> dict``."""
    return tiny_config
