"""Reading the attributes of a generated object's parts from an image: the exact metrics' eyes.

Shape legend: ``H`` image side, ``v`` values an attribute can take.

An edit of a generated scene keeps the pose, the background and the pattern placement, so
what the described part *should* look like is known exactly. Two readers decide which value
an image shows:

* **By synthesis** (colour and size): the true edit's scene is drawn once with every
  combination of the part's colour and size (11 colours × 2 sizes), everything else
  unchanged, and the image takes the combination whose drawing is nearest to it: the least
  mean absolute difference over the region any of those drawings gives to the part. Reading
  both at once keeps the verdicts apart: a part drawn at the right size in the wrong colour
  reads as the right size (compared only with drawings in the asked-for colour, the size a
  lengthened part in another colour is nearest to depends on that colour), and an unchanged
  part reads as its own size and colour. The true edit is at distance 0 from the described
  values, so it reads 100% correct by construction; a model's output is compared
  pixel-aligned, as the pose does not move.
* **By the attribute classifier** (pattern): where a model draws its stripes or spots need
  not match the renderer's, so a pixel comparison would punish a correct pattern; the
  in-project classifier (:mod:`textedit.evaluation.classifier`) reads patterns instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from textedit.data.synthetic.families import get_family
from textedit.data.synthetic.render import render
from textedit.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from textedit.data.synthetic.scene import Scene

__all__ = [
    "ACCURACY_METRICS",
    "SYNTHESIS_ATTRIBUTES",
    "Candidates",
    "ItemTruth",
    "judge",
    "parse_requested",
    "prepare_truth",
    "read_by_synthesis",
    "synthesis_candidates",
]

#: attributes read by synthesis; the others (pattern) need the classifier
SYNTHESIS_ATTRIBUTES = ("colour", "size")

#: the per-item accuracies :func:`accuracy_metrics` gives
ACCURACY_METRICS = (
    "attr_acc", "edit_acc", "colour_acc", "size_acc", "size_change_acc", "pattern_acc", "pattern_change_acc",
)


def parse_requested(text: str) -> dict[tuple[str, str], str]:
    """``"head.colour=red;tail.size=long"`` -> ``{("head", "colour"): "red", ...}``.

    Raises:
        InputError: an entry is not ``part.attribute=value``.
    """
    out: dict[tuple[str, str], str] = {}
    for entry in filter(None, (e.strip() for e in (text or "").split(";"))):
        key, sep, value = entry.partition("=")
        part, dot, attribute = key.partition(".")
        if not (sep and dot and part and attribute and value):
            raise InputError(f"cannot read {entry!r} in {text!r}: expected part.attribute=value")
        out[(part, attribute)] = value
    return out


@dataclass
class Candidates:
    """Drawings of a scene with every combination of values of one part's attributes.

    Attributes:
        part: the part that varies.
        attributes: the attributes that vary, e.g. ``("colour", "size")``.
        values: the ``v`` combinations, one value per attribute, in the family's order.
        images: ``(v, 3, H, H)`` float32 drawings in ``[0, 1]``.
        region: ``(H, H)`` float32 in ``[0, 1]``, the largest coverage any drawing gives to
            the part: where the comparison looks.
    """

    part: str
    attributes: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    images: Tensor
    region: Tensor


def synthesis_candidates(scene, part: str, attributes: str | Sequence[str], size: int) -> Candidates:
    """Draw ``scene`` at ``size`` with every combination of values of ``part``'s
    ``attributes`` (one name, or several)."""
    attributes = (attributes,) if isinstance(attributes, str) else tuple(attributes)
    fam = get_family(scene.family)
    try:
        choices = [fam.part(part).values(attribute) for attribute in attributes]
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    values = tuple(itertools.product(*choices))
    images, region = [], np.zeros((size, size), dtype=np.float32)
    for combination in values:
        drawn = render(scene.with_attributes({(part, a): v for a, v in zip(attributes, combination)}), size)
        images.append(torch.from_numpy(drawn.image).permute(2, 0, 1).float() / 255.0)
        region = np.maximum(region, drawn.part_masks[part])
    return Candidates(part, attributes, values, torch.stack(images), torch.from_numpy(region))


def read_by_synthesis(image: Tensor, candidates: Candidates) -> tuple[dict[str, str], Tensor]:
    """The values whose drawing is nearest to ``image`` over the part's region.

    Args:
        image: ``(3, H, H)`` in ``[0, 1]``, the size of the candidates.
        candidates: from :func:`synthesis_candidates`.

    Returns:
        ``(values, distances)``: attribute -> the value of the nearest drawing, and the
        ``(v,)`` mean absolute differences (ties go to the first combination in the
        family's order).
    """
    if image.shape != candidates.images.shape[1:]:
        raise InputError(
            f"image of shape {tuple(image.shape)} does not match the candidates "
            f"{tuple(candidates.images.shape[1:])}; draw the candidates at the image's size"
        )
    weight = candidates.region.to(image.device)
    total = weight.sum().clamp_min(1e-12) * image.shape[0]
    err = (candidates.images.to(image.device) - image.float().unsqueeze(0)).abs()
    distances = (err * weight).flatten(1).sum(1) / total
    nearest = candidates.values[int(torch.argmin(distances))]
    return dict(zip(candidates.attributes, nearest)), distances


@dataclass
class ItemTruth:
    """What an edit pair asks for, with the drawings its synthesis reads need.

    Attributes:
        requested: ``(part, attribute) -> value`` the description asks for.
        changed: the requested ones whose value differs from the input's.
        candidates: per part with a synthesis-read attribute requested, its
            :class:`Candidates` over every synthesis-read attribute the part has.
    """

    requested: dict[tuple[str, str], str]
    changed: set[tuple[str, str]]
    candidates: dict[str, Candidates] = field(default_factory=dict)


def prepare_truth(
    scene: Scene, target_scene: Scene, requested: Mapping[tuple[str, str], str], size: int
) -> ItemTruth:
    """The :class:`ItemTruth` of an edit pair (draws the candidates once, for every model).

    Args:
        scene: the input's scene.
        target_scene: the true edit's scene.
        requested: what the description asks for (:func:`parse_requested`).
        size: the image side the outputs have.
    """
    changed = {k for k, v in requested.items() if scene.attributes[k[0]].get(k[1]) != v}
    fam = get_family(target_scene.family)
    cands = {}
    for part in dict.fromkeys(p for p, a in requested if a in SYNTHESIS_ATTRIBUTES):
        # every synthesis-read attribute the part has (one it lacks but is asked for is refused)
        has = fam.part(part).attributes
        read = [a for a in SYNTHESIS_ATTRIBUTES if a in has or (part, a) in requested]
        cands[part] = synthesis_candidates(target_scene, part, read, size)
    return ItemTruth(dict(requested), changed, cands)


def judge(
    image: Tensor, truth: ItemTruth, classified: Mapping[tuple[str, str], str] | None = None
) -> dict[tuple[str, str], bool | None]:
    """Per requested attribute: does ``image`` show it? None when it cannot be read.

    Args:
        image: ``(3, H, H)`` output in ``[0, 1]``.
        truth: from :func:`prepare_truth`.
        classified: the attribute classifier's reading of the image, ``(part, attribute) ->
            value`` (used for the attributes not read by synthesis); None without one.
    """
    out: dict[tuple[str, str], bool | None] = {}
    read: dict[str, dict[str, str]] = {}  # part -> attribute -> value, read once per part
    for key, wanted in truth.requested.items():
        part, attribute = key
        cands = truth.candidates.get(part)
        if cands is not None and attribute in cands.attributes:
            if part not in read:
                read[part], _ = read_by_synthesis(image, cands)
            out[key] = read[part][attribute] == wanted
        elif classified is not None and key in classified:
            out[key] = classified[key] == wanted
        else:
            out[key] = None
    return out


def accuracy_metrics(
    verdicts: Mapping[tuple[str, str], bool | None],
    changed: set[tuple[str, str]],
    parts: Sequence[str],
) -> dict[str, float | None]:
    """Per-item accuracies from :func:`judge`'s verdicts (None where nothing was read).

    Keys: :data:`ACCURACY_METRICS` (``size_change_acc`` and ``pattern_change_acc``: the
    asked-for sizes and patterns that differ from the input's; ``size_acc`` and
    ``pattern_acc`` also count those the input already has) and
    ``acc.<part>`` for every part of the family.
    """

    def share(keys) -> float | None:
        seen = [verdicts[k] for k in keys if verdicts.get(k) is not None]
        return sum(seen) / len(seen) if seen else None

    out: dict[str, float | None] = {
        "attr_acc": share(verdicts),
        "edit_acc": share([k for k in verdicts if k in changed]),
    }
    for attribute in ("colour", "size", "pattern"):
        out[f"{attribute}_acc"] = share([k for k in verdicts if k[1] == attribute])
    for attribute in ("size", "pattern"):
        out[f"{attribute}_change_acc"] = share([k for k in verdicts if k[1] == attribute and k in changed])
    for part in parts:
        out[f"acc.{part}"] = share([k for k in verdicts if k[0] == part])
    return out
