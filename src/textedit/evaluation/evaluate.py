"""The evaluation runner: the chosen metrics over a split, for several models, resumably.

Shape legend: ``b`` batch, ``H`` image side.

Protocol (the same for every model and both references):

1. Items are taken in the data's fixed order (``--limit`` keeps the first ones); each model
   works at its own resolution and the data is drawn (or resized) to it.
2. Each output is rounded to 8 bits, as a PNG stores it, before anything is measured; every
   output (and the identity-edit output) is saved as a PNG, so each per-item number can be
   recomputed from the files.
3. Per item, the runner computes the per-item metrics and appends one JSON line to
   ``models/<label>/records.jsonl``; the set metrics' features (Inception, classifier) go to
   ``models/<label>/features/*.npz`` first. A stopped run started again with the same command
   (or with more models, or a larger ``--limit``) computes only what is missing.
4. :func:`textedit.evaluation.aggregate.aggregate` turns the saved files into the results
   (mean ± std per metric, set metrics), which :mod:`textedit.evaluation.report` writes out.

Output folder::

    eval_config.json         the settings, the data's and the evaluators' fingerprints
    models/<label>/model.json, records.jsonl, features/*.npz, outputs/*.png, identity/*.png, maps/*.png
    reference/<size>/features/*.npz   set features of the reference images
    images/<id>_input.png, images/<id>_target.png   (gallery items)
    results.json, results.csv, results.md, index.html
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from textedit._version import __version__
from textedit.data.synthetic import SyntheticSpec
from textedit.errors import InputError, TextEditError
from textedit.evaluation import metrics as M
from textedit.evaluation._io import read_records, read_state
from textedit.evaluation.aggregate import aggregate
from textedit.evaluation.attributes import ACCURACY_METRICS, parse_requested, prepare_truth
from textedit.evaluation.classifier import AttributeClassifier
from textedit.evaluation.damsm import DAMSM
from textedit.evaluation.inception import find_inception_weights, load_inception
from textedit.evaluation.measure import INPUT_RELATIVE, measure_batch, set_features
from textedit.evaluation.models import EvalModel, TrueEditModel, model_column, resolve_model
from textedit.evaluation.report import write_reports
from textedit.evaluation.selection import select_metrics
from textedit.evaluation.sources import open_eval_data
from textedit.training.config import TrainDataConfig
from textedit.utils.atomic import atomic_save, atomic_write_text
from textedit.utils.digest import file_digest, folder_digest, source_digest
from textedit.visualize import heatmap, to_pil

__all__ = ["EvalSettings", "Evaluation", "evaluate"]

#: settings that change per-item numbers, kept in ``eval_config.json``
_SHARED = ("data", "split", "data_n", "data_seed", "seed", "image_size")
#: those a resumed run must match: the generated data's size and seed are matched through
#: the data's fingerprint (an explicit ``--data-n 20000`` is the default's data)
_COMPARED = ("data", "split", "seed", "image_size")


@dataclass
class EvalSettings:
    """Everything ``textedit eval`` is told besides the models (see the CLI for each)."""

    data: str
    split: str = "test"
    limit: int | None = None
    data_n: int | None = None
    data_seed: int | None = None
    seed: int = 0
    batch_size: int = 16
    metrics: str | None = "auto"
    damsm: str | None = None
    classifier: str | None = None
    inception_weights: str | None = None
    download_inception: bool = False
    image_size: int | None = None
    gallery: int = 12
    save_outputs: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.metrics, (list, tuple)):  # the Python way of naming several
            self.metrics = ",".join(self.metrics)
        for name in ("limit", "data_n", "data_seed", "seed", "batch_size", "image_size", "gallery"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InputError(f"{name} must be a whole number, got {value!r}")


def _write_png(tensor: torch.Tensor, path: Path) -> None:
    atomic_save(path, lambda tmp: to_pil(tensor).save(tmp, format="PNG"))


def _read_records(path: Path) -> dict[int, dict[str, Any]]:
    """The records of ``path``; a line torn by a kill (or damaged) is dropped, and the file
    rewritten without it, so that the next record starts on a line of its own."""
    records, torn = read_records(path)
    if torn:
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in records.values()))
    return records


class Evaluation:
    """One evaluation run (module doc).

    Args:
        settings: what to run on and measure.
        models: the columns (:func:`~textedit.evaluation.models.resolve_model`).
        out: the output folder.
        progress: show a progress bar.
        overwrite: start afresh where the folder holds results of other settings or weights.
        log: where messages go.
    """

    def __init__(
        self,
        settings: EvalSettings,
        models: Sequence[EvalModel],
        out: str | Path,
        progress: bool = True,
        overwrite: bool = False,
        log: Callable[[str], None] = print,
    ):
        if not models:
            raise InputError(
                "give at least one --model (a saved model, a bundled name, identity or true-edit)"
            )
        labels = [m.label for m in models]
        if len(set(labels)) != len(labels):
            raise InputError(
                f"two models share a label ({', '.join(labels)}); name them with LABEL=SOURCE"
            )
        for name in ("batch_size", "image_size", "data_n"):
            value = getattr(settings, name)
            if value is not None and value < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        self.settings, self.models, self.out = settings, list(models), Path(out)
        self.progress, self.overwrite, self.log = progress, overwrite, log
        torch.manual_seed(settings.seed)
        self.data = open_eval_data(
            settings.data, settings.split, settings.data_n, settings.data_seed, settings.seed
        )
        for m in self.models:
            if isinstance(m, TrueEditModel) and not self.data.has_truth:
                raise m.no_truth()  # before the folder is touched
            seen = _seen_in_training(m.fingerprint.get("path"), self.data.fingerprint)
            if seen:
                self.log(f"warning: {m.label} ({m.source}) {seen}; its figures are not held out")
        self.n = len(self.data) if settings.limit is None else min(settings.limit, len(self.data))
        if self.n < 1:
            raise InputError(f"--limit must be at least 1, got {settings.limit}")
        self.evaluators: dict[str, Any] = {}
        self.evaluator_info: dict[str, Any] = {}
        self._load_evaluators()
        available = set(self.evaluators) | ({"truth"} if self.data.has_truth else set())
        self.metrics, self.skipped = select_metrics(settings.metrics, available)
        drawing = [m.label for m in self.models if m.draws]
        if len(drawing) == len(self.models):
            for metric in set(self.metrics) & set(INPUT_RELATIVE):
                self.skipped[metric] = "compares an edit with its input image, which a text-to-image model has none of"
        if drawing and "classifier" not in available and self.data.has_truth:
            # a drawn image has no input scene to read its attributes against
            self.skipped["attribute accuracies of " + ", ".join(drawing)] = (
                "a text-to-image model's attributes are read by the classifier alone: pass --classifier DIR"
            )
        sizes = [m.image_size for m in self.models if m.image_size]
        self.reference_size = (
            settings.image_size or (sizes[0] if sizes else None) or self.data.native_size or 64
        )

    # ---------------------------------------------------------------- evaluators
    def _load_evaluators(self) -> None:
        s = self.settings
        if s.damsm:
            self.evaluators["damsm"] = DAMSM.from_pretrained(s.damsm)
            self.evaluator_info["damsm"] = {
                "path": str(Path(s.damsm).resolve()),
                "digest": folder_digest(s.damsm),
            }
        if s.classifier:
            clf = AttributeClassifier.from_pretrained(s.classifier)
            if clf.config.family != self.data.family:
                self.log(
                    f"note: the classifier in {s.classifier} reads {clf.config.family}, the data is "
                    f"{self.data.family or 'not generated'}; classifier metrics are left out"
                )
            else:
                self.evaluators["classifier"] = clf
                self.evaluator_info["classifier"] = {
                    "path": str(Path(s.classifier).resolve()),
                    "digest": folder_digest(s.classifier),
                }
        self._load_inception()

    def _load_inception(self) -> None:
        """IS/FID/KID: an error when asked for (by name, weight file or download) and not
        loadable; under ``auto``, used when the weights are found locally, else left out."""
        s = self.settings
        asked = {x.strip() for x in (s.metrics or "auto").split(",")}
        explicit = bool(s.inception_weights or s.download_inception or asked & {"is", "fid", "kid"})
        if not explicit and find_inception_weights() is None:
            return
        net, path = load_inception(s.inception_weights, download=s.download_inception)
        self.evaluators["inception"] = net
        self.evaluator_info["inception"] = {"path": str(path), "digest": file_digest(path)}

    # ---------------------------------------------------------------- folder
    def _config(self) -> dict[str, Any]:
        s = asdict(self.settings)
        return {
            # the size the references are measured at (the first model's, without --image-size)
            "settings": {**{k: s[k] for k in _SHARED}, "image_size": self.reference_size},
            "data": {
                "name": self.data.name,
                "fingerprint": self.data.fingerprint,
                "items": len(self.data),
            },
            "evaluators": self.evaluator_info,
            "metrics": self.metrics,
            # the code that computed the results: the models' and the renderer's, the metrics'
            "code": {"textedit": __version__, "sources": source_digest()},
        }

    def _inputs(self) -> list[tuple[str, Path]]:
        """The files and folders this evaluation reads: models, data, evaluators."""
        inputs = [(f"the model {m.label!r}", m.fingerprint["path"]) for m in self.models if "path" in m.fingerprint]
        if "folder" in self.data.fingerprint:
            inputs.append(("the data", self.data.fingerprint["folder"]))
        inputs += [(f"the {name}", info["path"]) for name, info in self.evaluator_info.items()]
        return [(what, Path(path).resolve()) for what, path in inputs]

    def _check_outputs_spare_inputs(self) -> None:
        """Refuse an ``--out`` where the results would be written into what is evaluated, or
        where ``--overwrite`` would delete it (e.g. ``--out .`` beside ``models/mine``)."""
        out = self.out.resolve()
        written = [out / "models", out / "reference", out / "images"]
        for what, path in self._inputs():
            if out.is_relative_to(path):
                raise InputError(
                    f"--out {self.out} lies in {what} ({path}): the evaluation would write into "
                    "it; choose an --out outside it"
                )
            for folder in written:
                if path.is_relative_to(folder):
                    raise InputError(
                        f"{what} lies in {folder}, where the evaluation writes (and, with "
                        "--overwrite, deletes) its results; choose another --out"
                    )

    def _prepare_folder(self) -> None:
        """Check the output folder against this run (nothing is written until every check
        passes), then set it up: discard what ``--overwrite`` replaces, write the config."""
        self._check_outputs_spare_inputs()
        config = self._config()
        path = self.out / "eval_config.json"
        known: list[dict[str, str]] = []
        discard = False
        if path.is_file():
            try:
                old = read_state(path)
            except InputError:
                if not self.overwrite:
                    raise
                old = {}
            known = old.get("models", [])
            then = {k: (old.get("settings") or {}).get(k) for k in _COMPARED}
            if then["image_size"] is None:  # written before the size was kept: each model's is checked
                then["image_size"] = self.reference_size
            differs = _changed(then, {k: config["settings"][k] for k in _COMPARED}, "settings")
            differs += _changed(old.get("data"), config["data"], "data")
            digests = lambda ev: {k: v["digest"] for k, v in (ev or {}).items()}  # noqa: E731
            if digests(old.get("evaluators")) != digests(config["evaluators"]):
                differs.append("evaluators")
            if set(old.get("metrics", [])) != set(self.metrics):
                differs.append("metrics")
            if old.get("code") != config["code"]:
                then_code = old.get("code") or {"textedit": "an older version", "sources": "unrecorded"}
                differs.append(
                    f"code (textedit {then_code['textedit']}, sources {then_code['sources']}; this is "
                    f"textedit {__version__}, sources {config['code']['sources']})"
                )
            if differs and not self.overwrite:
                size = then["image_size"] != self.reference_size and self.settings.image_size is None
                raise InputError(
                    f"{self.out} holds an evaluation with other {', '.join(differs)}; choose "
                    f"another --out, or pass --overwrite to discard it"
                    + (f", or measure at its size with --image-size {then['image_size']}" if size else "")
                )
            discard = bool(differs)
        stale = [] if discard else [m for m in self.models if self._stale(m)]
        # every check passed: from here on, the folder changes
        if discard:
            known = []
            for sub in ("models", "reference", "images"):
                shutil.rmtree(self.out / sub, ignore_errors=True)
        for m in stale:
            shutil.rmtree(self.out / "models" / m.label)
        self.out.mkdir(parents=True, exist_ok=True)
        labels = {m.label for m in self.models}
        # every model the folder holds results of (--report-only shows them all)
        config["models"] = [k for k in known if k["label"] not in labels] + [
            {"label": m.label, "source": m.source} for m in self.models
        ]
        atomic_write_text(path, json.dumps(config, indent=2) + "\n")
        for m in self.models:
            info = {"label": m.label, "source": m.source, "image_size": self._size(m), "fingerprint": m.fingerprint}
            (self.out / "models" / m.label).mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.out / "models" / m.label / "model.json", json.dumps(info, indent=2) + "\n")

    def _stale(self, model: EvalModel) -> bool:
        """Whether the folder holds results of ``model`` that this run cannot add to (other
        weights, another image size): True to recompute them under ``--overwrite``, else an
        InputError that says what differs."""
        meta = self.out / "models" / model.label / "model.json"
        if not meta.is_file():
            return False
        try:
            saved = read_state(meta)
        except InputError:
            if self.overwrite:
                return True
            raise
        if saved.get("fingerprint") != model.fingerprint:
            problem = f"results of other weights than {model.source}"
            remedy = f"label this model differently (LABEL={model.source})"
        elif saved.get("image_size") != self._size(model):
            problem = f"results measured at {saved.get('image_size')} px, where this run measures at {self._size(model)} px"
            remedy = f"pass --image-size {saved.get('image_size')} (without it, the first model's size is used)"
        else:
            return False
        if not self.overwrite:
            raise InputError(f"{meta.parent} holds {problem}; pass --overwrite to recompute them, or {remedy}")
        return True

    def _size(self, model: EvalModel) -> int:
        return model.image_size or self.reference_size

    # ---------------------------------------------------------------- running
    def run(self) -> dict[str, Any]:
        """Compute what is missing, then aggregate and write the reports; returns the results."""
        from tqdm import tqdm

        self._prepare_folder()
        done = {  # label -> index -> item id, of the items measured already
            m.label: {i: r.get("id") for i, r in _read_records(self.out / "models" / m.label / "records.jsonl").items()}
            for m in self.models
        }
        starts = range(0, self.n, self.settings.batch_size)
        with tqdm(total=self.n, unit="item", desc="eval", disable=not self.progress) as bar:
            for start in starts:
                idx = list(range(start, min(start + self.settings.batch_size, self.n)))
                self._batch(idx, done)
                bar.update(len(idx))
        results = aggregate(
            self.out, [m.label for m in self.models], self.n, self.metrics, self.skipped
        )
        write_reports(self.out, results)
        return results

    def _batch(self, idx: list[int], done: dict[str, dict[int, Any]]) -> None:
        needs_set = any(m in self.metrics for m in ("is", "fid", "kid", "cs", "cfd"))
        cache: dict[int, tuple[list[dict], list]] = {}

        def items_at(size: int):
            if size not in cache:
                items = [self.data.item(i, size) for i in idx]
                truths = [None] * len(items)
                if self.data.has_truth and any(m in self.metrics for m in ACCURACY_METRICS):
                    truths = [
                        prepare_truth(
                            it["scene"], it["target_scene"], parse_requested(it["requested"]), size
                        )
                        for it in items
                    ]
                cache[size] = (items, truths)
            return cache[size]

        for model in self.models:
            folder = self.out / "models" / model.label
            todo = [k for k, i in enumerate(idx) if i not in done[model.label]]
            # measured before, without the PNGs this run keeps (--gallery larger, outputs saved)
            redraw = [k for k, i in enumerate(idx) if i in done[model.label] and self._lacks_pngs(folder, i, done[model.label][i])]
            if not todo and not redraw:
                continue
            size = self._size(model)
            items, truths = items_at(size)
            if redraw:
                _, _, images = measure_batch(
                    model, [items[k] for k in redraw], [truths[k] for k in redraw], self.metrics, self.evaluators, self.data
                )
                self._save_images(model, folder, [items[k] for k in redraw], images)
            if not todo:
                continue
            items, truths = [items[k] for k in todo], [truths[k] for k in todo]
            records, features, images = measure_batch(
                model, items, truths, self.metrics, self.evaluators, self.data
            )
            if features:
                name = f"{items[0]['index']:07d}-{items[-1]['index']:07d}.npz"
                atomic_save(folder / "features" / name, lambda tmp, f=features: np.savez(tmp, **f))
            self._save_images(model, folder, items, images)
            with open(folder / "records.jsonl", "a", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps(r) + "\n")
                f.flush()
            done[model.label].update((r["index"], r.get("id")) for r in records)
        if needs_set:
            self._reference_features(idx, items_at)

    def _lacks_pngs(self, folder: Path, index: int, item_id: Any) -> bool:
        """Whether item ``index``, measured before, lacks a PNG this run's settings keep."""
        gallery = index < self.settings.gallery
        if item_id is None:  # a record without its id (damaged): nothing to look for
            return False
        if (self.settings.save_outputs or gallery) and not (folder / "outputs" / f"{item_id}.png").is_file():
            return True
        return gallery and not (self.out / "images" / f"{item_id}_input.png").is_file()

    def _reference_features(self, idx: list[int], items_at) -> None:
        for size in sorted({self._size(m) for m in self.models}):
            folder = self.out / "reference" / str(size) / "features"
            name = f"{idx[0]:07d}-{idx[-1]:07d}.npz"
            if (folder / name).is_file():
                continue
            items, _ = items_at(size)
            ref = torch.stack(
                [it["target"] if self.data.has_truth else it["image"] for it in items]
            )
            feats = set_features(M.to_unit(ref), self.metrics, self.evaluators)
            feats["index"] = np.asarray(idx, dtype=np.int64)
            atomic_save(folder / name, lambda tmp, f=feats: np.savez(tmp, **f))

    def _save_images(
        self, model: EvalModel, folder: Path, items: list[dict], images: dict[str, Any]
    ) -> None:
        for k, it in enumerate(items):
            gallery = it["index"] < self.settings.gallery
            if self.settings.save_outputs or gallery:
                _write_png(images["output"][k], folder / "outputs" / f"{it['id']}.png")
                if images.get("identity") is not None:
                    _write_png(images["identity"][k], folder / "identity" / f"{it['id']}.png")
            if gallery:
                if images.get("map") is not None:
                    size = it["image"].shape[-1]
                    pic = heatmap(images["map"][k][0], size)
                    atomic_save(
                        folder / "maps" / f"{it['id']}.png",
                        lambda tmp, p=pic: p.save(tmp, format="PNG"),
                    )
                shared = self.out / "images"
                if not (shared / f"{it['id']}_input.png").is_file():
                    _write_png(it["image"], shared / f"{it['id']}_input.png")
                    if "target" in it:
                        _write_png(it["target"], shared / f"{it['id']}_target.png")


def evaluate(
    models: Sequence[Any] | str,
    data: str,
    out: str | Path,
    progress: bool = False,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
    **settings: Any,
) -> dict[str, Any]:
    """Evaluate ``models`` on ``data``; see :class:`EvalSettings` for ``settings``; ``log``
    receives the notes and warnings (e.g. a model trained on the images evaluated).

    Each model is a ``--model`` string (a bundled name, a folder, ``identity``,
    ``true-edit``, ``LABEL=SOURCE``), a model in memory (labelled by its class name), a
    ``(label, model)`` pair, or an :class:`~textedit.evaluation.models.EvalModel`.
    """
    resolved = [_column(m) for m in ([models] if isinstance(models, str) else models)]
    return Evaluation(
        EvalSettings(data=data, **settings), resolved, out, progress=progress, overwrite=overwrite, log=log
    ).run()


def _column(model: Any) -> EvalModel:
    if isinstance(model, EvalModel):
        return model
    if isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], str):
        return model_column(model[1], model[0])
    return resolve_model(model) if isinstance(model, str) else model_column(model)


def _seen_in_training(model_path: str | None, data: dict[str, Any]) -> str | None:
    """What a model's training run saw of a generated evaluation set, when it saw any of it:
    generated scene ``i`` depends on the family, the seed and ``i`` alone, so a run on more
    images than the evaluation set's (or on its split) trained on the images it is measured
    on. Read from the run's ``config.yaml`` beside the model's folder (and a packed data
    set's ``packed.json``); None when there is nothing to tell."""
    evaluated = data.get("synthetic")
    if model_path is None or evaluated is None:
        return None
    config = Path(model_path).parent / "config.yaml"
    try:
        trained = TrainDataConfig.model_validate(
            (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("data") or {}
        )
        spec = trained.generated_spec()
        measured = SyntheticSpec(**evaluated)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError, TextEditError):
        return None  # no run beside it, or one this check cannot read: nothing to tell
    if spec is None or (spec.family, spec.seed) != (measured.family, measured.seed):
        return None
    split = trained.split
    seen = {i for i in range(spec.n) if spec.split(i) == split}
    shared = [i for i in range(measured.n) if measured.split(i) == data.get("split", "test") and i in seen]
    if not shared:
        return None
    return (
        f"was trained on {len(shared)} of the generated images evaluated here (the {split} split of "
        f"{spec.n} {spec.family} with seed {spec.seed}, per {config}, holds images {shared[0]}..{shared[-1]}); "
        f"evaluate it on another --data-seed or a data set it did not see"
    )


def _changed(old: Any, new: Any, name: str) -> list[str]:
    """What differs between an earlier evaluation's ``name`` section and this one's, field
    by field (``settings.seed (0 there, 1 now)``)."""
    if old == new:
        return []
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [name]
    keys = sorted(set(old) | set(new), key=str)
    return [f"{name}.{k} ({old.get(k)!r} there, {new.get(k)!r} now)" for k in keys if old.get(k) != new.get(k)]
