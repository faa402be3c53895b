"""StackGAN++ presets: ``stackgan_256`` (birds at 64 -> 128 -> 256 px, AttnGAN's widths) and
``stackgan_64`` (CPU-sized: three stages at 16, 32 and 64 px, ``attngan_64``'s widths)."""

from __future__ import annotations

from textedit.models.attngan.presets import PRESET_WIDTHS as ATTNGAN_WIDTHS
from textedit.models.presets import register_width_presets

__all__ = ["PRESET_WIDTHS"]

#: name -> (image_size, text, generator, discriminator) fields: AttnGAN's, so that the two
#: differ only in how the later stages read the text
PRESET_WIDTHS = {"stackgan_64": ATTNGAN_WIDTHS["attngan_64"], "stackgan_256": ATTNGAN_WIDTHS["attngan_256"]}

_DESCRIPTIONS = {
    "stackgan_64": "StackGAN++ (text to image), 64 px in three stages, attngan_64's widths",
    "stackgan_256": "StackGAN++ (text to image) for birds, 256 px in three stages, attngan_256's widths",
}

register_width_presets(
    "stackgan", PRESET_WIDTHS, _DESCRIPTIONS, {"generator": "stackgan", "discriminator": "attngan"}, __name__
)
