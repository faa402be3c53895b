"""Registering the presets of a built-in model from a table of widths.

Every built-in preset reads descriptions with a ``bilstm`` text encoder over
:data:`~textedit.text.description_words.DESCRIPTION_WORDS` (with
:data:`~textedit.text.description_words.DESCRIPTION_SYNONYMS`), at its ``image_size``, and
fills each other slot with a registered type and that preset's widths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from textedit.registry.api import register_preset
from textedit.registry.presets import Preset
from textedit.text.description_words import DESCRIPTION_SYNONYMS, DESCRIPTION_WORDS

__all__ = ["register_width_presets"]


def _config(widths: Mapping[str, Any], slot_types: Mapping[str, str]) -> Callable[[], dict[str, Any]]:
    def config() -> dict[str, Any]:
        return {
            "image_size": widths["image_size"],
            "text_encoder": {
                "type": "bilstm",
                "vocabulary": list(DESCRIPTION_WORDS),
                "synonyms": dict(DESCRIPTION_SYNONYMS),
                **widths["text_encoder"],
            },
            **{slot: {"type": kind, **widths.get(slot, {})} for slot, kind in slot_types.items()},
        }

    return config


def register_width_presets(
    composition: str,
    widths: Mapping[str, Mapping[str, Any]],
    descriptions: Mapping[str, str],
    slot_types: Mapping[str, str],
    module: str,
) -> None:
    """Register one preset per name of ``descriptions``.

    Args:
        composition: the registered composition the presets configure.
        widths: preset name -> ``image_size``, and per slot (``text_encoder`` and each slot of
            ``slot_types``) the fields to set.
        descriptions: preset name -> the line ``textedit components`` shows.
        slot_types: slot -> the registered type that fills it (besides the text encoder).
        module: the defining module (``__name__``), recorded as the preset's origin.
    """
    for name, text in descriptions.items():
        preset = Preset(name=name, composition=composition, config=_config(widths[name], slot_types), description=text)
        preset.__module__ = module
        register_preset(preset)
