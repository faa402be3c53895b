"""Device names given by users (``--device``, ``device:`` in a config, ``map_location``).

textedit runs on the CPU and on CUDA (and PyTorch's ``"mps"`` on Apple silicon, untested
by textedit's suite): a device is ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``,
``"cuda:N"`` or ``"mps"``. Anything else is refused here, before a model is built or a file
is read, with a message that lists what is allowed, instead of failing later as a damaged
file or a PyTorch traceback.
"""

from __future__ import annotations

import re
from typing import Any

from textedit.errors import InputError

__all__ = ["DEVICE_CHOICES", "check_device_name", "resolve_device"]

#: what a device may be called, for messages
DEVICE_CHOICES = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
_NAME = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def check_device_name(device: str) -> str:
    """``device`` if it is one of :data:`DEVICE_CHOICES` (syntax only, nothing probed).

    Raises:
        ValueError: another name (``"CPU"``, ``"mps"``, ``"cuda0"``).
    """
    if not isinstance(device, str) or not _NAME.fullmatch(device):
        raise ValueError(f"device must be {DEVICE_CHOICES}")
    return device


def resolve_device(device: Any = "auto") -> str:
    """The device to run on: ``"auto"`` becomes ``"cuda"`` when CUDA is available, else
    ``"cpu"``; a CUDA device is checked to exist. A :class:`torch.device` is accepted too.

    Raises:
        InputError: a name that is not a device textedit runs on, or a CUDA device this
            machine does not have.
    """
    import torch  # lazy: configs check device names without importing torch

    name = str(device) if isinstance(device, torch.device) else device
    try:
        check_device_name(name)
    except ValueError as exc:
        raise InputError(f"{exc}, got {name!r}; textedit runs on the CPU and on GPUs") from None
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "mps" and not torch.backends.mps.is_available():
        raise InputError("device mps: Apple's Metal (MPS) is not available here; use cpu (or auto)")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {name}: CUDA is not available here; use cpu (or auto)")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InputError(
                f"device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                f"cuda:0 to cuda:{torch.cuda.device_count() - 1}"
            )
    return name
