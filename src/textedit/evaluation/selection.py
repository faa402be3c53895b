"""Which metrics an evaluation computes: ``--metrics`` groups and names, and what each needs."""

from __future__ import annotations

from textedit.errors import InputError
from textedit.evaluation.metrics import METRICS

__all__ = ["GROUPS", "REQUIREMENTS", "select_metrics"]

#: ``--metrics`` group names and the metrics they stand for
GROUPS: dict[str, tuple[str, ...]] = {
    "paper": ("is", "fid", "kid", "sim", "diff", "mp"),
    "generated": ("cs", "cfd"),
    "exact": (
        "attr_acc",
        "edit_acc",
        "colour_acc",
        "size_acc",
        "size_change_acc",
        "pattern_acc",
        "pattern_change_acc",
        "bg_change",
        "unmentioned_change",
        "l1",
        "psnr",
        "ssim",
    ),
    "identity": ("id_diff",),
}
GROUPS["all"] = tuple(m for g in ("paper", "generated", "exact", "identity") for m in GROUPS[g])

#: metric -> the metrics it is computed from (computed with it when it is asked for)
COMPUTED_FROM = {"mp": ("sim", "diff")}

#: metric -> the things it needs: ``damsm``, ``inception``, ``classifier``, ``truth``
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "is": ("inception",),
    "fid": ("inception",),
    "kid": ("inception",),
    "sim": ("damsm",),
    "mp": ("damsm",),
    "cs": ("classifier",),
    "cfd": ("classifier",),
    **{m: ("truth", "classifier") for m in ("pattern_acc", "pattern_change_acc")},
    **{m: ("truth",) for m in GROUPS["exact"] if not m.startswith("pattern_")},
}

_HOW = {
    "damsm": "a DAMSM (--damsm DIR, trained with `textedit train-damsm`)",
    "inception": "the FID Inception weights (--inception-weights FILE)",
    "classifier": "an attribute classifier of this family (--classifier DIR, trained with `python -m textedit.evaluation train-classifier`)",
    "truth": "data with true edits (--data synthetic:<family> or a folder from `textedit data generate`)",
}


def select_metrics(asked: str | None, available: set[str]) -> tuple[list[str], dict[str, str]]:
    """The metrics to compute, and why the others of ``all`` are left out.

    Args:
        asked: ``--metrics``: ``auto`` (or None: every metric whose needs are met), or a comma
            list of metric and group names (a metric named on its own whose needs are not met
            is an error; one of a group is left out with its reason).
        available: which of ``damsm``, ``inception``, ``classifier``, ``truth`` are present.

    Returns:
        ``(metrics, skipped)``: names in report order, and ``name -> reason`` for the rest.

    Raises:
        InputError: an unknown name, or a metric named on its own whose needs are missing.
    """
    order = list(GROUPS["all"])
    named: set[str] = set()  # asked for by name: an error when its needs are missing
    if asked in (None, "", "auto"):
        chosen = order
    else:
        chosen = []
        for name in (x.strip() for x in asked.split(",") if x.strip()):
            if name in GROUPS:
                chosen += GROUPS[name]
            elif name in METRICS:
                chosen.append(name)
                named.add(name)
            else:
                raise InputError(
                    f"unknown metric {name!r}; metrics: {', '.join(order)}; groups: "
                    f"{', '.join(GROUPS)}, auto"
                )
        if not chosen:
            raise InputError(f"--metrics {asked!r} names no metric; e.g. --metrics auto, or --metrics diff,l1")
        for m, parts in COMPUTED_FROM.items():  # MP is read off Sim and Diff
            if m in chosen:
                chosen += parts
        chosen = [m for m in order if m in set(chosen)]
    metrics, skipped = [], {}
    for m in order:
        missing = [r for r in REQUIREMENTS.get(m, ()) if r not in available]
        if m in chosen and not missing:
            metrics.append(m)
        elif m in named:
            raise InputError(f"metric {m!r} needs {' and '.join(_HOW[r] for r in missing)}")
        else:
            skipped[m] = (
                "not asked for"
                if m not in chosen
                else "needs " + " and ".join(_HOW[r] for r in missing)
            )
    return metrics, skipped
