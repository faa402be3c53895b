"""DAMSM (AttnGAN) as a composition: a text encoder and an image encoder trained to agree.

Shape legend: ``b`` batch, ``t`` words, ``d`` the common feature width (``feature_dim``,
AttnGAN's ``nef``, 256), ``r`` the side of the image encoder's region grid (17 for
Inception at 299 px).

* ``text_encoder`` slot: by default textedit's Bi-LSTM (``bilstm``: 300-d embeddings,
  ``d / 2`` hidden units per direction, dropout 0.5, as AttnGAN's ``RNN_ENCODER``): word
  features ``(b, t, d)`` and a sentence feature ``(b, d)``.
* ``image_encoder`` slot: ``inception`` (AttnGAN's ``CNN_ENCODER``, the default) or
  ``small_cnn`` (our deviation for generated data on a CPU), or any registered
  :class:`~textedit.interfaces.image_encoder.ImageEncoder`: regions ``(b, d, r, r)`` and a
  global feature ``(b, d)``.
* Own fields: ``feature_dim`` (wired into both slots) and the losses' ``γ1``, ``γ2``,
  ``γ3``; the losses themselves are :func:`textedit.losses.damsm_loss` and its parts.

**Sim** (the paper's metric) is :meth:`DAMSM.sim`: the cosine between the image's global
feature and the sentence feature of the description. ``textedit train-damsm`` trains one;
it is saved like every composition (``model_index.json``, ``text_encoder/``,
``image_encoder/``) and opened with ``textedit.load`` or :meth:`DAMSM.from_pretrained`,
which also reads the old single-folder DAMSM format (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import Field
from torch import Tensor

from textedit.config.base import CompositionConfig, SlotSpec
from textedit.errors import CheckpointError, InputError, TextEditError
from textedit.interfaces.component import Component
from textedit.interfaces.composition import Composition, wire
from textedit.interfaces.image_encoder import ImageEncoding
from textedit.interfaces.text_encoder import EXAMPLE_DESCRIPTIONS, TextEncoding, TokenBatch
from textedit.losses import cosine, damsm_loss
from textedit.registry.api import create_component, register_model
from textedit.serialization import INDEX_NAME, restoring
from textedit.text.vocabulary import split_words

__all__ = ["DAMSM", "DAMSMConfig", "is_legacy_folder", "legacy_config"]

#: the ``type`` in the ``config.json`` of a DAMSM saved in the old single-folder format
LEGACY_TYPE = "damsm"


class DAMSMConfig(CompositionConfig):
    text_encoder: SlotSpec("text_encoder") = Field(
        {"type": "bilstm", "embedding_dim": 300, "max_words": 18, "dropout": 0.5},
        description="encodes descriptions into d-wide word and sentence features (AttnGAN's "
        "RNN_ENCODER: a Bi-LSTM over 300-d embeddings, dropout 0.5); its vocabulary comes "
        "from the training captions. A bilstm's hidden_dim is set to feature_dim / 2",
    )
    image_encoder: SlotSpec("image_encoder") = Field(
        "inception",
        description="encodes images into d-wide region and global features: inception "
        "(AttnGAN's CNN_ENCODER) or small_cnn (for generated data on a CPU); its "
        "feature_dim is set to the composition's",
    )
    feature_dim: int = Field(
        256,
        gt=1,
        description="common width d of word, sentence, region and global features "
        "(AttnGAN: 256); even for a Bi-LSTM text encoder (two directions)",
    )
    gamma1: float = Field(4.0, gt=0, description="γ1: sharpness of the word-to-region attention")
    gamma2: float = Field(
        5.0, gt=0, description="γ2: how much the best-matching words dominate R(Q, D)"
    )
    gamma3: float = Field(
        10.0, gt=0, description="γ3: the smoothing factor of the matching softmax"
    )


@register_model("damsm")
class DAMSM(Composition):
    """AttnGAN's Deep Attentional Multimodal Similarity Model (see the module docstring).

    Not an editing model: ``textedit edit`` and ``textedit train`` refuse it;
    ``textedit eval --damsm DIR`` reads it for Sim and MP.
    """

    config_class = DAMSMConfig

    @classmethod
    def build_components(
        cls, config: DAMSMConfig, given: dict[str, Component]
    ) -> dict[str, Component]:
        d = config.feature_dim
        out = dict(given)
        if "text_encoder" not in out:
            spec = config.text_encoder
            if "hidden_dim" in type(spec.config).model_fields:
                if d % 2:
                    raise InputError(
                        f"feature_dim must be even (two LSTM directions of d / 2), got {d}"
                    )
                spec = wire(spec, hidden_dim=d // 2)
            out["text_encoder"] = create_component("text_encoder", spec)
        if "image_encoder" not in out:
            out["image_encoder"] = create_component(
                "image_encoder", wire(config.image_encoder, feature_dim=d)
            )
        text, image = out["text_encoder"], out["image_encoder"]
        widths = {
            "the text encoder's word_dim": getattr(text, "word_dim", None),
            "the text encoder's sentence_dim": getattr(text, "sentence_dim", None),
            "the image encoder's feature_dim": getattr(image, "feature_dim", None),
        }
        wrong = {k: v for k, v in widths.items() if v is not None and v != d}
        if wrong:
            raise TextEditError(
                f"DAMSM compares features of width feature_dim={d}, but "
                + ", ".join(f"{k} is {v}" for k, v in wrong.items())
                + "; set feature_dim, or the slots' widths, so that they agree"
            )
        return out

    @classmethod
    def example_config(cls) -> DAMSMConfig:
        """A tiny DAMSM: 8-d features, a small CNN at 16 px, the example descriptions' words."""
        words = sorted({w for text in EXAMPLE_DESCRIPTIONS for w in split_words(text)})
        return DAMSMConfig(
            feature_dim=8,
            text_encoder={
                "type": "bilstm", "vocabulary": words, "embedding_dim": 8, "dropout": 0.5
            },
            image_encoder={"type": "small_cnn", "image_size": 16, "width": 4},
        )

    # ------------------------------------------------------------------ shapes
    @property
    def feature_dim(self) -> int:
        """Width ``d`` of every feature the two encoders produce."""
        return self.config.feature_dim

    @property
    def image_size(self) -> int:
        """Side the image encoder reads (other sizes are resized to it)."""
        return self.image_encoder.image_size

    # ------------------------------------------------------------------ encoding
    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """The text encoder's tokens for ``texts`` (on the CPU)."""
        return self.text_encoder.tokenize(list(texts))

    def encode_images(self, image: Tensor) -> ImageEncoding:
        """``(b, 3, H, W)`` images in ``[-1, 1]`` -> regions ``(b, d, r, r)``, global ``(b, d)``.

        Raises:
            InputError: ``image`` is not a ``(b, 3, H, W)`` tensor.
        """
        return self.image_encoder.encode(image)

    def encode_texts(self, texts: Sequence[str]) -> TextEncoding:
        """Word ``(b, t, d)`` and sentence ``(b, d)`` features of ``b`` descriptions."""
        return self.text_encoder.encode(list(texts))

    def losses(
        self, image: Tensor, texts: Sequence[str], class_ids: Tensor | None = None
    ) -> dict[str, Tensor]:
        """AttnGAN's four DAMSM losses for a batch of matching pairs (and their sum, ``loss``)."""
        c = self.config
        return damsm_loss(
            self.encode_images(image),
            self.encode_texts(texts),
            c.gamma1,
            c.gamma2,
            c.gamma3,
            class_ids,
        )

    @torch.no_grad()
    def sim(self, image: Tensor, texts: Sequence[str]) -> Tensor:
        """Sim: ``(b,)`` cosine between each image's global feature and its description's
        sentence feature (eval mode, no gradients), on the CPU."""
        was = self.training
        self.eval()
        try:
            code = self.encode_images(image).global_feature
            sentence = self.encode_texts(texts).sentence
        finally:
            self.train(was)
        return cosine(code, sentence).cpu()

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls, directory: str | Path, map_location: str | torch.device = "cpu"
    ) -> "DAMSM":
        """Load a DAMSM saved by :meth:`save_pretrained`, in eval mode.

        Also accepts the run folder of ``textedit train-damsm`` (it loads ``model/``) and a
        folder in the old single-folder DAMSM format (one ``config.json`` and one
        ``model.safetensors``, written before DAMSM was a composition), with a
        ``FutureWarning`` asking to save it again.
        """
        directory = Path(directory)
        if not (directory / INDEX_NAME).is_file() and (directory / "model").is_dir():
            directory = directory / "model"  # a train-damsm run folder
        fields = _legacy_fields(directory)
        if fields is not None:
            model = _load_legacy(cls, directory, fields, map_location)
        else:
            model = super().from_pretrained(directory, map_location)
        return model.eval()

    @classmethod
    def frozen(cls, directory: str | Path, device: torch.device, field: str = "recipe.damsm") -> "DAMSM":
        """A DAMSM for a recipe's matching term: loaded from ``directory`` onto ``device``,
        with no parameter that learns; a clear error naming ``field`` (the config field that
        named it) when the folder is missing."""
        if not Path(directory).is_dir():
            raise TextEditError(
                f"{field}: {directory} is not a folder; train one with `textedit train-damsm "
                f"--out DIR` and name DIR, or set {field} to null"
            )
        return cls.from_pretrained(directory).to(device).requires_grad_(False)


# ---------------------------------------------------------------------- the old format
def _legacy_fields(directory: Path) -> dict[str, Any] | None:
    path = directory / "config.json"
    if (directory / INDEX_NAME).is_file() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("type") != LEGACY_TYPE:
        return None
    return data


def is_legacy_folder(directory: str | Path) -> bool:
    """Whether ``directory`` holds a DAMSM in the old single-folder format:
    ``config.json`` (``{"type": "damsm", "vocabulary": ..., "image_encoder": "small_cnn" |
    "inception", ...}``) and ``model.safetensors``, no ``model_index.json``."""
    return _legacy_fields(Path(directory)) is not None


def legacy_config(fields: Mapping[str, Any]) -> DAMSMConfig:
    """The :class:`DAMSMConfig` of a DAMSM saved (or checkpointed by ``textedit train-damsm``)
    in the old single-folder format, whose fields were flat (``vocabulary``, ``feature_dim``,
    ``image_encoder``, ``width``, ...). Its weights keep their names in the composition."""
    f = {k: v for k, v in fields.items() if k not in ("type", "_textedit")}
    d = int(f.get("feature_dim", 256))
    kind = f.get("image_encoder", "inception")
    if kind == "small_cnn":
        image = {
            "type": "small_cnn",
            "image_size": f.get("image_size", 64),
            "width": f.get("width", 32),
        }
    elif kind == "inception":
        image = {"type": "inception", "freeze_backbone": f.get("freeze_backbone", False)}
    else:
        raise CheckpointError(f"an old DAMSM config names an unknown image encoder {kind!r}")
    if "vocabulary" not in f:
        raise CheckpointError("an old DAMSM config has no vocabulary")
    return DAMSMConfig(
        text_encoder={
            "type": "bilstm",
            "vocabulary": tuple(f["vocabulary"]),
            "max_words": f.get("max_words", 18),
            "embedding_dim": f.get("embedding_dim", 300),
            "hidden_dim": d // 2,
            "dropout": f.get("dropout", 0.5),
        },
        image_encoder={**image, "feature_dim": d},
        feature_dim=d,
        gamma1=f.get("gamma1", 4.0),
        gamma2=f.get("gamma2", 5.0),
        gamma3=f.get("gamma3", 10.0),
    )


def _load_legacy(
    cls: type[DAMSM], directory: Path, fields: Mapping[str, Any], map_location: Any
) -> DAMSM:
    from safetensors.torch import load_file

    retrain = "retrain it with `textedit train-damsm --out DIR` and pass DIR/model"
    try:
        config = legacy_config(fields)
    except (TextEditError, ValueError) as exc:
        raise CheckpointError(
            f"{directory} is a DAMSM in the old single-folder format that cannot be read "
            f"({exc}); {retrain}"
        ) from exc
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise CheckpointError(
            f"{weights} is missing; the DAMSM in {directory} is incomplete; {retrain}"
        )
    with restoring():
        model = cls(config)
    state = load_file(str(weights), device=str(map_location))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"the weights in {weights} do not fit the DAMSM its config.json describes ({exc}); "
            f"{retrain}"
        ) from exc
    warnings.warn(
        f"{directory} holds a DAMSM in the old single-folder format (config.json + "
        f"model.safetensors); it was read and converted. Save it again with "
        f"model.save_pretrained(DIR) to write the current format (model_index.json, "
        f"text_encoder/, image_encoder/), or retrain it with `textedit train-damsm`",
        FutureWarning,
        stacklevel=3,
    )
    return model.to(map_location)
