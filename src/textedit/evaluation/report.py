"""Writing an evaluation's results: JSON, CSV, a Markdown table and an HTML gallery.

Every file is written atomically. The gallery shows, for the first ``--gallery`` items, the
input, the description, the true edit when known and each model's output and edit map; its
images are the PNG files saved beside it by the runner.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from textedit.evaluation._io import read_records
from textedit.utils.atomic import atomic_write_text

__all__ = ["write_reports", "format_table", "format_value"]

_DECIMALS = {"psnr": 2, "fid": 2, "kid": 4, "is": 2, "cs": 2, "cfd": 3}


def format_value(name: str, result: dict[str, Any] | None) -> str:
    """``"0.123 ± 0.045"`` (``"–"`` when absent; no ± for a single number)."""
    if (
        not result
        or result.get("mean") is None
        or (isinstance(result["mean"], float) and math.isnan(result["mean"]))
    ):
        return "–"
    d = _DECIMALS.get(name, 3)
    text = f"{result['mean']:.{d}f}"
    std = result.get("std")
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {std:.{d}f}"
    return text


def _rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    labels = list(results["models"])
    header = ["metric", *labels]
    rows = []
    for name in results["metrics"]:
        info = results["info"][name]
        arrow = {"higher": " ↑", "lower": " ↓"}.get(info["better"], "")
        rows.append(
            [
                f"{info['title']}{arrow}",
                *(format_value(name, results["models"][l]["results"].get(name)) for l in labels),
            ]
        )
    return header, rows


def format_table(results: dict[str, Any], markdown: bool = False) -> str:
    """Models side by side, one metric per row, ``mean ± std`` (std over items; over splits
    for IS, CS; over subsets for KID)."""
    header, rows = _rows(results)
    if markdown:
        lines = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
    )
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def _markdown(results: dict[str, Any]) -> str:
    cfg = results["config"]
    lines = [
        f"# Evaluation on {cfg['data']['name']}",
        "",
        f"{results['n']} items; models at their own resolution; outputs rounded to 8 bits before "
        "measuring.",
        "",
        format_table(results, markdown=True),
        "",
        "± is the standard deviation over items (over 10 splits for IS and CS, over subsets for "
        "KID).",
        "",
        "| metric | definition | range |",
        "|---|---|---|",
    ]
    lines += [
        f"| {i['title']} | {i['definition']} | {i['range']} |" for i in results["info"].values()
    ]
    ev = cfg.get("evaluators") or {}
    if ev:
        lines += [
            "",
            "Evaluators: "
            + "; ".join(f"{k} {v['path']} (sha256 {v['digest']})" for k, v in ev.items()),
        ]
    if results.get("skipped"):
        lines += [
            "",
            "Not computed: "
            + "; ".join(
                f"{k} ({v})" for k, v in results["skipped"].items() if v != "not asked for"
            ),
        ]
    return "\n".join(lines) + "\n"


def _csv(results: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["model", "metric", "mean", "std", "n"])
    for label, m in results["models"].items():
        for name in results["metrics"]:
            r = m["results"].get(name)
            if r:
                w.writerow(
                    [
                        label,
                        name,
                        r["mean"],
                        "" if r.get("std") is None else r["std"],
                        r.get("n", ""),
                    ]
                )
    return buf.getvalue()


def _gallery(out: Path, results: dict[str, Any]) -> str:
    labels = list(results["models"])
    records = {}
    for label in labels:
        for index, r in read_records(out / "models" / label / "records.jsonl")[0].items():
            records.setdefault(index, r)
    items = sorted(
        i for i in records if (out / "images" / f"{records[i]['id']}_input.png").is_file()
    )
    has_target = any((out / "images" / f"{records[i]['id']}_target.png").is_file() for i in items)
    e = html.escape
    head = ["input", "description"] + (["true edit"] if has_target else [])
    for label in labels:
        head += [e(label), f"{e(label)} map"]
    rows = []
    for i in items:
        rid = records[i]["id"]
        cells = [
            f'<img src="images/{e(rid)}_input.png">',
            f'<td class="d">{e(records[i]["description"])}</td>',
        ]
        if has_target:
            cells.append(f'<img src="images/{e(rid)}_target.png">')
        for label in labels:
            folder = out / "models" / label
            for sub in ("outputs", "maps"):
                exists = (folder / sub / f"{rid}.png").is_file()
                cells.append(f'<img src="models/{e(label)}/{sub}/{e(rid)}.png">' if exists else "–")
        rows.append(
            "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    header, table_rows = _rows(results)
    table = (
        "<tr>"
        + "".join(f"<th>{e(h)}</th>" for h in header)
        + "</tr>"
        + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in table_rows)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>textedit evaluation</title>
<style>body{{font-family:sans-serif}} td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}}
td.d{{max-width:18em;text-align:left;font-size:90%}} img{{width:128px;image-rendering:pixelated}}</style></head>
<body><h1>Evaluation on {e(results['config']['data']['name'])}</h1>
<p>{results['n']} items. Mean ± std over items. Numbers: results.json, results.csv; per item: models/&lt;label&gt;/records.jsonl.</p>
<table>{table}</table>
<h2>Gallery</h2>
<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>
{chr(10).join(rows)}
</table></body></html>
"""


def write_reports(out: str | Path, results: dict[str, Any]) -> dict[str, Path]:
    """Write ``results.json``, ``results.csv``, ``results.md`` and ``index.html`` into ``out``."""
    out = Path(out)
    paths = {
        k: out / f
        for k, f in (
            ("json", "results.json"),
            ("csv", "results.csv"),
            ("markdown", "results.md"),
            ("html", "index.html"),
        )
    }
    atomic_write_text(paths["json"], json.dumps(_jsonable(results), indent=2, default=str) + "\n")
    atomic_write_text(paths["csv"], _csv(results))
    atomic_write_text(paths["markdown"], _markdown(results))
    atomic_write_text(paths["html"], _gallery(out, results))
    return paths


def _jsonable(value: Any) -> Any:
    """``value`` with NaN replaced by None (JSON has no NaN), recursively."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
