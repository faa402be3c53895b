"""What every reported number means: name, definition, range, direction (the docs' table)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MetricInfo", "METRICS", "metric_info"]


@dataclass(frozen=True)
class MetricInfo:
    """What a reported number means.

    Attributes:
        name: the key in records and reports.
        title: a short column title.
        definition: how it is computed (one sentence).
        range: its value range.
        better: ``"higher"``, ``"lower"`` or ``"none"`` (a proxy with no better direction).
        group: ``paper`` (the paper's metrics), ``generated`` (stand-ins on generated data),
            ``exact`` (against the true edit) or ``identity``.
        per_item: a mean over items (± std over items), or one number for the set.
    """

    name: str
    title: str
    definition: str
    range: str
    better: str
    group: str
    per_item: bool = True


def _m(name, title, better, group, value_range, definition, per_item=True) -> MetricInfo:
    return MetricInfo(name, title, definition, value_range, better, group, per_item)


_PIXELS = "pixels in [0, 1]"
_ALL = [
    _m(
        "is",
        "IS",
        "higher",
        "paper",
        "[1, 1008]",
        "Inception Score of the outputs (FID Inception-v3, 1008 classes, 299 px bilinear); "
        "± is the std over 10 splits",
        per_item=False,
    ),
    _m(
        "fid",
        "FID",
        "lower",
        "paper",
        "[0, ∞)",
        "Fréchet distance of Inception pool features (2048-d) between the outputs and the "
        "reference images (the true edits; the inputs on data without them)",
        per_item=False,
    ),
    _m(
        "kid",
        "KID",
        "lower",
        "paper",
        "≈ 0 for one distribution",
        "kernel inception distance (cubic polynomial kernel, torchmetrics) between the outputs "
        "and the reference images; ± over 100 subsets",
        per_item=False,
    ),
    _m(
        "sim",
        "Sim",
        "higher",
        "paper",
        "[-1, 1]",
        "cosine similarity of the DAMSM image feature of the output and the DAMSM sentence "
        "feature of the description",
    ),
    _m(
        "diff",
        "Diff",
        "none",
        "paper",
        "[0, 1]",
        f"mean absolute pixel difference between input and output, {_PIXELS}",
    ),
    _m(
        "mp",
        "MP",
        "higher",
        "paper",
        "[-1, 1]",
        "manipulative precision (1 − Diff) × Sim of the set means (as ManiGAN and the paper's "
        "Table 1, whose numbers satisfy it)",
        per_item=False,
    ),
    _m(
        "cs",
        "CS",
        "higher",
        "generated",
        "[1, geometric mean of the head sizes]",
        "classifier score: exp of the mean over the attribute classifier's heads of "
        "E_x KL(p(y|x) ‖ p(y)); ± over 10 splits",
        per_item=False,
    ),
    _m(
        "cfd",
        "CFD",
        "lower",
        "generated",
        "[0, ∞)",
        "Fréchet distance of the attribute classifier's penultimate features between the "
        "outputs and the true edits",
        per_item=False,
    ),
    _m(
        "attr_acc",
        "attribute acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of the attributes the description asks for that the output shows",
    ),
    _m(
        "edit_acc",
        "edit acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of the asked-for attributes that differ from the input that the output shows",
    ),
    _m(
        "colour_acc",
        "colour acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of asked-for part colours shown (read with the size as the nearest of the "
        "renderer's 11 × 2 versions)",
    ),
    _m(
        "size_acc",
        "size acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of asked-for part sizes shown, the input's own included (read with the colour "
        "as the nearest of the renderer's 11 × 2 versions)",
    ),
    _m(
        "size_change_acc",
        "size change acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of asked-for part sizes that differ from the input's that the output shows",
    ),
    _m(
        "pattern_acc",
        "pattern acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of asked-for part patterns shown (read by the attribute classifier)",
    ),
    _m(
        "pattern_change_acc",
        "pattern change acc.",
        "higher",
        "exact",
        "[0, 1]",
        "share of asked-for part patterns that differ from the input's that the output shows "
        "(read by the attribute classifier)",
    ),
    _m(
        "bg_change",
        "background change",
        "lower",
        "exact",
        "[0, 1]",
        f"mean absolute change outside the object (before and after the true edit), {_PIXELS}",
    ),
    _m(
        "unmentioned_change",
        "unmentioned-part change",
        "lower",
        "exact",
        "[0, 1]",
        f"mean absolute change on the parts the description does not name, {_PIXELS}",
    ),
    _m(
        "l1",
        "L1 to truth",
        "lower",
        "exact",
        "[0, 1]",
        f"mean absolute difference between the output and the true edit, {_PIXELS}",
    ),
    _m(
        "psnr",
        "PSNR to truth",
        "higher",
        "exact",
        "[0, 100] dB",
        "PSNR between the output and the true edit (peak 1; identical images count 100 dB)",
    ),
    _m(
        "ssim",
        "SSIM to truth",
        "higher",
        "exact",
        "[-1, 1]",
        "SSIM between the output and the true edit (Gaussian 11 px window, σ 1.5)",
    ),
    _m(
        "id_diff",
        "identity-edit Diff",
        "lower",
        "identity",
        "[0, 1]",
        "Diff between the input and the output for the image's own caption (near 0 is good)",
    ),
]

#: every metric textedit reports, by name
METRICS: dict[str, MetricInfo] = {m.name: m for m in _ALL}


def metric_info(name: str) -> MetricInfo:
    """The :class:`MetricInfo` of ``name``; per-part accuracies (``acc.<part>``) are derived."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith("acc."):
        part = name[4:]
        return _m(
            name,
            f"acc. {part}",
            "higher",
            "exact",
            "[0, 1]",
            f"share of the asked-for attributes of the {part} that the output shows",
        )
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
