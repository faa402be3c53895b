"""A trained text encoder, read from a saved model and frozen (type ``frozen``).

The references of the text-to-image systems do not train their text encoder with the
generator: AttnGAN reads DAMSM's, trained beforehand for image-text matching and frozen;
StackGAN, StackGAN++ and GAN-INT-CLS read a char-CNN-RNN embedding pretrained the same way.
This encoder is that slot for any composition: ``source`` names a folder holding a trained
text encoder — a saved model such as the DAMSM that ``textedit train-damsm --out DIR`` writes
(``DIR`` or ``DIR/model``), any saved composition with a ``text_encoder`` slot, or a saved
text encoder — whose tokenizer, vocabulary and weights it takes as they are.

Frozen means: its parameters do not require gradients (so no optimiser holds them), its
forward pass runs without autograd, and it stays in eval mode (no dropout) when the model
around it trains. Its weights are saved with the model: ``encoder`` records the trained
encoder's type and config when it is read from ``source``, and a saved model rebuilds it from
there and reads its weights from its own file, so the folder ``source`` names is not needed
to load or share the model (a training run that resumes rebuilds it from its checkpoint too,
without reading ``source`` again).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import Field

from textedit.components.text_encoder.bilstm import BiLSTMTextEncoder
from textedit.config.base import ComponentConfig
from textedit.errors import CheckpointError, ConfigError
from textedit.interfaces.composition import spec_of
from textedit.interfaces.text_encoder import TextEncoder, TextEncoding, TokenBatch
from textedit.registry.api import create_component, register_text_encoder
from textedit.serialization import CONFIG_NAME, is_composition_dir, is_restoring, load_component

__all__ = ["FrozenTextEncoder", "FrozenTextEncoderConfig", "read_trained_text_encoder"]


class FrozenTextEncoderConfig(ComponentConfig):
    source: str | None = Field(
        None,
        description="folder of the trained text encoder: a saved model with a text_encoder slot "
        "(e.g. the DAMSM of `textedit train-damsm --out DIR`: DIR or DIR/model) or a saved text "
        "encoder (config.json + model.safetensors). Read when the encoder is built, not when a "
        "saved model holding it is loaded",
    )
    encoder: dict[str, Any] | None = Field(
        None,
        description="the trained encoder's {type: ..., fields}: recorded from source when the "
        "encoder is read, saved with the model, which rebuilds it from here and then reads its "
        "weights. Given without source, the encoder is built from it with fresh weights and "
        "frozen (a fixed random text embedding)",
    )


@register_text_encoder("frozen")
class FrozenTextEncoder(TextEncoder):
    """A trained text encoder, frozen (see the module docstring). Tokenizes, and its word and
    sentence widths are, those of the encoder it holds (:attr:`encoder`)."""

    config_class = FrozenTextEncoderConfig

    def __init__(self, config: FrozenTextEncoderConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        if c.source is not None and not is_restoring():
            encoder = read_trained_text_encoder(c.source)
            self.config = c.model_copy(update={"encoder": spec_of(encoder).to_dict()})
        elif c.encoder is not None:
            encoder = create_component("text_encoder", c.encoder)
        else:
            raise ConfigError([(
                "text_encoder.source",
                "type 'frozen' needs source: the folder of a trained text encoder (e.g. "
                "`textedit train-damsm --out DIR` writes one; give source: DIR)",
            )])
        self.encoder = encoder.requires_grad_(False).eval()

    @classmethod
    def example_config(cls) -> FrozenTextEncoderConfig:
        return cls.config_class(encoder={"type": "bilstm", **BiLSTMTextEncoder.example_config().to_dict()})

    @property
    def word_dim(self) -> int:
        return self.encoder.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.encoder.sentence_dim

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """The held encoder's tokens."""
        return self.encoder.tokenize(texts)

    def train(self, mode: bool = True) -> "FrozenTextEncoder":
        """Sets the mode of this module; the held encoder stays in eval mode."""
        super().train(mode)
        self.encoder.eval()
        return self

    def forward(self, tokens: TokenBatch) -> TextEncoding:
        with torch.no_grad():
            return self.encoder(tokens)

    def extra_repr(self) -> str:
        return f"source={self.config.source!r}"


def read_trained_text_encoder(source: str | Path) -> TextEncoder:
    """The text encoder saved in ``source`` (see :class:`FrozenTextEncoderConfig`), with its
    weights, on the CPU.

    Raises:
        ConfigError: ``source`` is not a folder holding a saved model or text encoder.
        CheckpointError: the saved files cannot be read.
    """
    path = Path(source).expanduser()
    hint = (
        "name the folder of a trained model with a text encoder (`textedit train-damsm --out "
        "DIR` writes DIR/model) or of a saved text encoder"
    )
    if not path.is_dir():
        raise ConfigError([("text_encoder.source", f"{path} is not a folder; {hint}")])
    for model in (path, path / "model"):
        if is_composition_dir(model):
            folder = model / "text_encoder"
            if not folder.is_dir():
                raise ConfigError([("text_encoder.source", f"the model in {model} has no text_encoder slot; {hint}")])
            break
    else:
        if not (path / CONFIG_NAME).is_file():
            raise ConfigError([("text_encoder.source", f"{path} holds no saved model or component; {hint}")])
        folder = path
    try:
        return load_component(folder, kind="text_encoder")
    except CheckpointError as exc:
        raise CheckpointError(f"text_encoder.source: cannot read the text encoder in {folder}: {exc}") from exc
