"""Warnings that point at the user's code, not at the textedit frame that raised them."""

from __future__ import annotations

import sys
import warnings

__all__ = ["warn_caller"]

_PACKAGE = "textedit"


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame, counted from :func:`warn_caller`'s caller,
    whose module is not part of textedit (the whole stack if every frame is)."""
    level, frame = 1, sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
            return level
        frame, level = frame.f_back, level + 1
    return level


def warn_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` attributed to the nearest caller outside
    textedit, so that the warning's file and line (and the ``once``/``default`` filters,
    which key on them) name the user's code or script whatever path inside textedit led
    to it."""
    warnings.warn(message, category, stacklevel=_outside_level() + 1)
