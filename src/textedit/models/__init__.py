"""Built-in compositions and presets; importing this registers them."""

from textedit.models import mimnet, mimnet_presets  # noqa: F401  (registration)
from textedit.models.mimnet import MIMNet, MIMNetConfig

__all__ = ["MIMNet", "MIMNetConfig"]
