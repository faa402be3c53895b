"""Where training writes its numbers: JSONL and CSV logs, and TensorBoard when installed.

Appending is resume-safe: on resume, lines of steps after the checkpoint (written by the
interrupted run after its last checkpoint) are dropped first, so the logs of a resumed run
read exactly like those of an uninterrupted one. Those rewrites (and the CSV's, when a new
column appears) replace the files atomically: a run killed during one keeps its old logs.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from textedit.utils.atomic import atomic_write

__all__ = ["MetricsLogger", "read_metrics"]


class MetricsLogger:
    """Writes one record per logged step to ``metrics.jsonl`` and ``metrics.csv``.

    Args:
        directory: the run folder.
        resume_step: drop records of steps after this one (None: start fresh).
        tensorboard: also write TensorBoard events when ``tensorboard`` is installed.
    """

    def __init__(self, directory: str | Path, resume_step: int | None = None, tensorboard: bool = True):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.directory / "metrics.jsonl"
        self.csv = self.directory / "metrics.csv"
        records = read_metrics(self.jsonl) if resume_step is not None else []
        records = [r for r in records if r.get("step", 0) <= (resume_step or 0)]
        self._fields: list[str] = []
        self._rewrite(records)
        self._writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._writer = SummaryWriter(str(self.directory / "tensorboard"), purge_step=resume_step)
            except Exception:  # tensorboard not installed: the files above are enough
                self._writer = None

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            for k in r:
                if k not in self._fields:
                    self._fields.append(k)
        with atomic_write(self.jsonl) as f:
            f.write("".join(json.dumps(r) + "\n" for r in records).encode("utf-8"))
        self._write_csv(records)

    def _write_csv(self, records: list[dict[str, Any]]) -> None:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=self._fields)
        writer.writeheader()
        writer.writerows(records)
        with atomic_write(self.csv) as f:
            f.write(text.getvalue().encode("utf-8"))

    def log(self, record: dict[str, Any]) -> None:
        """Append one record (must hold ``step``)."""
        with open(self.jsonl, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if any(k not in self._fields for k in record):
            self._fields += [k for k in record if k not in self._fields]
            self._write_csv(read_metrics(self.jsonl))
        else:
            with open(self.csv, "a", newline="", encoding="utf-8") as f:
                csv.DictWriter(f, fieldnames=self._fields).writerow(record)
        if self._writer is not None:
            step = int(record["step"])
            for k, v in record.items():
                if k != "step" and isinstance(v, (int, float)):
                    self._writer.add_scalar(k, v, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Records of a ``metrics.jsonl`` file (a torn last line is ignored)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
