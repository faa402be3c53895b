"""The base of every component: a ``torch.nn.Module`` built from one frozen config."""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from textedit.config.base import ComponentConfig, validate_config
from textedit.errors import CheckpointError
from textedit.serialization import load_component, save_component

__all__ = ["Component"]

C = TypeVar("C", bound="Component")


class Component(nn.Module, metaclass=ABCMeta):
    """A registered building block of one kind, built from its config.

    Subclasses set :attr:`config_class` and build their layers in ``__init__(self, config)``
    after calling ``super().__init__(config)``. Everything a component needs to be rebuilt
    lives in its config, so ``type(c)(c.config)`` has the same architecture as ``c``.

    Attributes:
        kind: the registry kind, set by each interface (``"generator"``...).
        config_class: the pydantic config model of this component.
        config: the validated, frozen config this instance was built from.
    """

    kind: ClassVar[str]
    config_class: ClassVar[type[ComponentConfig]]

    def __init__(self, config: ComponentConfig | Mapping[str, Any] | None = None):
        super().__init__()
        if config is None:
            config = {}
        self.config = validate_config(self.config_class, config, prefix=self.kind)

    @classmethod
    def from_config(cls: type[C], config: ComponentConfig | Mapping[str, Any] | None = None) -> C:
        """Build an instance with fresh (random) weights from a config or a mapping."""
        return cls(config)

    @classmethod
    def example_config(cls) -> ComponentConfig:
        """A small config for tests and the conformance kit; defaults to the default config."""
        return cls.config_class()

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        """Keyword arguments for ``forward`` that satisfy this component's contract.

        Used by :mod:`textedit.testing`; the interfaces implement it from the dimensions a
        component declares, so a new implementation rarely needs to.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide example inputs")

    @property
    def device(self) -> torch.device:
        """Device of the first parameter or buffer (CPU for a component without any)."""
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        return torch.device("cpu")

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameters (optionally only those with ``requires_grad``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------ save and load
    def save_pretrained(
        self, directory: str | Path, *, overwrite: bool = True, dtype: torch.dtype | None = None
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` to ``directory``, atomically.

        Args:
            directory: target folder, replaced as a whole.
            overwrite: replace an existing folder holding a saved model or component (else
                raise ``FileExistsError``); a folder holding anything else is refused with
                an ``InputError``, since replacing it would delete what it holds.
            dtype: store floating tensors in this dtype (e.g. ``torch.float16``). Loading
                builds float32 modules and casts the stored tensors to float32 (call
                ``.to(dtype)`` after loading to run in another dtype).
        """
        return save_component(self, directory, overwrite=overwrite, dtype=dtype)

    @classmethod
    def from_pretrained(
        cls: type[C], directory: str | Path, map_location: str | torch.device = "cpu"
    ) -> C:
        """Load a component written by :meth:`save_pretrained`.

        Called on an interface (``Generator.from_pretrained``) it builds whatever registered
        type the folder names; called on a concrete class it also checks the type matches.
        """
        component = load_component(directory, kind=cls.kind, map_location=map_location)
        if not isinstance(component, cls):
            raise CheckpointError(
                f"{directory} holds a {type(component).__qualname__}, not a {cls.__qualname__}; "
                f"load it with {type(component).__qualname__}.from_pretrained or "
                f"textedit.load_component"
            )
        return component
