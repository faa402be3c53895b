"""Weight initialisation schemes, applied with ``module.apply(scheme)``."""

from __future__ import annotations

from torch import nn

__all__ = ["dcgan_init"]


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv/linear weights ``N(0, 0.02)``, norm scales ``N(1, 0.02)``.

    Biases are zeroed. Covers ``Conv2d``, ``Linear`` and affine ``GroupNorm``; anything else is
    left as it is. Used as ``model.apply(dcgan_init)``, as the SISGAN and TAGAN references do.
    """
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.GroupNorm) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
