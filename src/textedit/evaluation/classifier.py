"""The attribute classifier of a generated family, and the set metrics it gives.

Shape legend: ``b`` batch, ``H`` image side, ``n`` items of a set, ``d`` feature width,
``k`` values of one attribute.

On generated birds and flowers, Inception-v3's ImageNet features say little, so the
evaluation uses a classifier trained in the project instead: one head per ``(part,
attribute)`` slot of the family (the bird's head colour, head pattern, ..., tail size).
It gives the stand-ins of the paper's two set metrics:

* **classifier score** (CS): the Inception Score's formula applied to each head,
  ``exp(mean over heads of E_x KL(p(y|x) ‖ p(y)))`` (the geometric mean of the per-head
  scores), ± the std over 10 splits; it is high when outputs show definite attribute values
  that vary across the set;
* **classifier Fréchet distance** (CFD): the FID formula on its ``d``-wide penultimate
  features between the outputs and the reference images.

It also reads patterns for the attribute accuracy (:mod:`textedit.evaluation.attributes`).
Train one with ``python -m textedit.evaluation train-classifier`` (see
:mod:`textedit.evaluation.classifier_train`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from textedit.data.synthetic.families import get_family
from textedit.errors import InputError
from textedit.evaluation._io import load_network_weights, read_network_config, save_network

__all__ = [
    "AttributeClassifierConfig",
    "AttributeClassifier",
    "ClassifierOutput",
    "classifier_score",
]

TYPE_NAME = "attribute_classifier"


class AttributeClassifierConfig(BaseModel):
    """Architecture of an :class:`AttributeClassifier`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str = Field(
        "birds", description="generated family whose (part, attribute) slots it reads"
    )
    image_size: int = Field(64, ge=16, description="inputs are resized (bilinear) to this side")
    width: int = Field(
        32, gt=0, description="channels of the first stage; doubled at each of the 3 downsamplings"
    )


@dataclass
class ClassifierOutput:
    """Logits per slot (``"part.attribute" -> (b, k)``) and ``(b, d)`` penultimate features."""

    logits: dict[str, Tensor]
    features: Tensor


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class AttributeClassifier(nn.Module):
    """A small CNN with one linear head per ``(part, attribute)`` slot of a family.

    Args:
        config: the architecture (or a mapping of its fields).
    """

    def __init__(self, config: AttributeClassifierConfig | dict[str, Any] | None = None):
        super().__init__()
        self.config = (
            config
            if isinstance(config, AttributeClassifierConfig)
            else AttributeClassifierConfig(**(config or {}))
        )
        fam = get_family(self.config.family)
        #: ``(part, attribute)`` slots in the family's order, and each one's values
        self.slots: list[tuple[str, str]] = fam.slots()
        self.values: dict[str, tuple[str, ...]] = {
            f"{p}.{a}": fam.part(p).values(a) for p, a in self.slots
        }
        w = self.config.width
        self.trunk = nn.Sequential(
            _block(3, w, 1),
            _block(w, 2 * w, 2),
            _block(2 * w, 2 * w, 1),
            _block(2 * w, 4 * w, 2),
            _block(4 * w, 4 * w, 1),
            _block(4 * w, 8 * w, 2),
        )
        # ModuleDict keys cannot hold dots: "head.colour" is stored as "head__colour"
        self.heads = nn.ModuleDict(
            {k.replace(".", "__"): nn.Linear(8 * w, len(v)) for k, v in self.values.items()}
        )

    @property
    def feature_dim(self) -> int:
        """Width ``d`` of the penultimate features."""
        return 8 * self.config.width

    def forward(self, image: Tensor) -> ClassifierOutput:
        """Classify ``(b, 3, H, H)`` images in ``[-1, 1]`` (any ``H``; resized internally)."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise InputError(
                f"the classifier takes (b, 3, H, W) images in [-1, 1], got {tuple(image.shape)}"
            )
        size = self.config.image_size
        if image.shape[-2:] != (size, size):
            image = F.interpolate(
                image.float(),
                size=(size, size),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        features = self.trunk(image.float()).mean((2, 3))
        return ClassifierOutput(
            {k.replace("__", "."): h(features) for k, h in self.heads.items()}, features
        )

    @torch.no_grad()
    def classify(
        self, image: Tensor
    ) -> tuple[list[dict[tuple[str, str], str]], dict[str, Tensor], Tensor]:
        """Readings, probabilities and features of a batch (eval mode, no gradients).

        Returns:
            ``(readings, probs, features)``: per image ``(part, attribute) -> value``; per
            slot ``(b, k)`` probabilities; ``(b, d)`` features.
        """
        was = self.training
        self.eval()
        try:
            out = self(image.to(next(self.parameters()).device))
        finally:
            self.train(was)
        probs = {k: v.softmax(-1).cpu() for k, v in out.logits.items()}
        readings = []
        for i in range(image.shape[0]):
            readings.append(
                {
                    tuple(k.split(".", 1)): self.values[k][int(p[i].argmax())]
                    for k, p in probs.items()
                }
            )
        return readings, probs, out.features.cpu()

    # ------------------------------------------------------------------ saving
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` to ``directory`` (atomically)."""
        return save_network(self, self.config.model_dump(), TYPE_NAME, directory)

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, map_location: Any = "cpu"
    ) -> "AttributeClassifier":
        """Load a classifier written by :meth:`save_pretrained` (strictly)."""
        model = cls(AttributeClassifierConfig(**read_network_config(directory, TYPE_NAME)))
        load_network_weights(model, directory, map_location)
        return model.eval()


def classifier_score(probs: dict[str, Tensor], splits: int = 10) -> tuple[float, float]:
    """Classifier score: ``exp`` of the mean over heads of ``E_x KL(p(y|x) ‖ p(y))``.

    Args:
        probs: per head ``(n, k)`` probabilities, rows in the order items were drawn;
            split into ``splits`` consecutive chunks like the Inception Score.

    Returns:
        ``(mean, std)`` over the chunks.
    """
    if not probs:
        raise InputError("classifier_score needs the probabilities of at least one head")
    n = next(iter(probs.values())).shape[0]
    splits = max(1, min(splits, n))
    bounds = torch.tensor_split(torch.arange(n), splits)
    scores = []
    for idx in bounds:
        kls = []
        for p in probs.values():
            chunk = p[idx].double().clamp_min(1e-16)
            marginal = chunk.mean(0, keepdim=True)
            kls.append((chunk * (chunk.log() - marginal.log())).sum(1).mean().item())
        scores.append(math.exp(sum(kls) / len(kls)))
    t = torch.tensor(scores, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False)) if len(scores) > 1 else 0.0
