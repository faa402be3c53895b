"""An example textedit plug-in; textedit finds its components through entry points."""

__version__ = "0.1.0"
