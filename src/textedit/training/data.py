"""The training stream: which images and descriptions each step sees, as a pure function.

Training consumes an endless stream of data-set positions ``k = 0, 1, 2, ...``; position
``k`` is image ``perm_e[k mod N]`` of epoch ``e = k // N``, where ``perm_e`` is a
permutation seeded by ``(seed, e)``. Step ``s`` of a run with global batch ``B`` takes
positions ``[sB, (s+1)B)``; under ``torchrun`` process ``r`` of ``W`` takes its contiguous
``B / W`` of them. The data set makes the caption choice, the flip and the mismatched
description from ``(seed, epoch, index)``. So the data of a step depends on nothing but the
seed and the step: a resumed run, a run with DataLoader workers and a distributed run all
see exactly the same data.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from textedit.data.cub import CUBDataset
from textedit.data.detect import detect_layout
from textedit.data.folder import FolderDataset
from textedit.data.oxford import Oxford102Dataset
from textedit.data.packed import PackedDataset
from textedit.data.synthetic.data import SyntheticCaptionDataset
from textedit.errors import InputError, TextEditError
from textedit.registry.api import resolve_model_config
from textedit.text import Vocabulary

__all__ = ["TrainingData", "Batch", "SampleBatch", "build_training_data", "open_dataset"]


@dataclass
class Batch:
    """One process's share of a step.

    Attributes:
        images: ``(b, 3, s, s)`` in ``[-1, 1]``.
        captions: the images' own descriptions.
        mismatched: descriptions of other images (the adversarial stage's ``t̂``).
        seeds: one seed per row for a recipe's random draws (MIM-Net: its random memory weights).
        mismatched_targets: ``(b, 3, s, s)`` the true edits of the images by ``mismatched``
            (generated data under the paired losses only; else None).
        mismatched_weights: ``(b, 1, s, s)`` per-pixel weights that give every changed part
            of those edits the same total (with ``mismatched_targets``).
    """

    images: Tensor
    captions: list[str]
    mismatched: list[str]
    seeds: list[int]
    mismatched_targets: Tensor | None = None
    mismatched_weights: Tensor | None = None

    def pin_memory(self) -> "Batch":
        """The batch with its tensors in page-locked memory (what ``DataLoader(pin_memory=True)``
        calls), so that copies to a GPU can be asynchronous."""
        pinned = lambda t: None if t is None else t.pin_memory()
        return Batch(
            images=self.images.pin_memory(),
            captions=self.captions,
            mismatched=self.mismatched,
            seeds=self.seeds,
            mismatched_targets=pinned(self.mismatched_targets),
            mismatched_weights=pinned(self.mismatched_weights),
        )


@dataclass
class SampleBatch:
    """Fixed examples for sample grids: images and the descriptions to apply."""

    images: Tensor
    texts: tuple[str, ...]


class _Positions(torch.utils.data.Dataset):
    """Map-style view of the stream: item ``k`` is position ``k`` (for DataLoader workers)."""

    def __init__(self, dataset: Any, seed: int):
        self.dataset = dataset
        self.seed = seed
        self._epoch, self._perm = -1, np.arange(0)

    def index(self, k: int) -> tuple[int, int]:
        n = len(self.dataset)
        epoch, offset = divmod(k, n)
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch, 7]).permutation(n)
            self._epoch = epoch
        return epoch, int(self._perm[offset])

    def __len__(self) -> int:  # the stream is endless; DataLoader only needs a bound
        return 2**62

    def __getitem__(self, k: int) -> dict[str, Any]:
        epoch, index = self.index(k)
        self.dataset.set_epoch(epoch)
        item = self.dataset[index]
        return {
            "image": item["image"],
            "caption": item["caption"],
            "mismatched": item["mismatched_caption"],
            "mismatched_target": item.get("mismatched_target"),
            "mismatched_weight": item.get("mismatched_weight"),
            "seed": int(np.random.default_rng([self.seed, k, 11]).integers(2**62)),
        }


def _leave_stops_to_the_main_process(worker_id: int) -> None:
    """A DataLoader worker ignores Ctrl-C, SIGTERM and SIGHUP, which reach the whole process
    group (a terminal, a scheduler stopping the job): the trainer finishes its step, writes a
    checkpoint and then shuts the workers down; a worker killed by the signal would fail the
    step instead. (A worker whose main process dies exits by itself: PyTorch watches it.)"""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def _collate(items: list[dict[str, Any]]) -> Batch:
    def stacked(key: str) -> Tensor | None:
        return torch.stack([i[key] for i in items]) if items and items[0][key] is not None else None

    return Batch(
        images=torch.stack([i["image"] for i in items]),
        captions=[i["caption"] for i in items],
        mismatched=[i["mismatched"] for i in items],
        mismatched_targets=stacked("mismatched_target"),
        mismatched_weights=stacked("mismatched_weight"),
        seeds=[i["seed"] for i in items],
    )


#: The DataLoader iterator of each live :class:`TrainingData`, by ``id``. Held here, not on
#: the object, so that it never dies in a garbage-collected cycle (a ``Trainer`` and its
#: recipe form one): there the collector runs the loader's queues' weakref finalizers before
#: the iterator's ``__del__``, so the workers never receive the request to stop, and the
#: collection waits out torch's 5-s status-check interval once per worker (measured: 5.2 s
#: for one worker, 40 s for two at a 20-s interval). A finalizer of the
#: :class:`TrainingData` drops the entry instead, and the workers stop at once (0.2 s).
_LOADERS: dict[int, Iterator[Any]] = {}


class TrainingData:
    """The stream of batches of a run.

    Args:
        dataset: the training split (a :class:`~textedit.data.base.CaptionDataset`).
        batch_size: the global batch size ``B``.
        seed: the run's seed.
        vocabulary: the vocabulary the model's text encoder uses (None when the encoder has
            its own tokenizer).
        sample_dataset: where the fixed sample-grid examples come from.
        num_workers: DataLoader workers (the data does not depend on it). They live as long
            as the stream: the loader iterates one endless epoch, so there is nothing for
            ``persistent_workers`` to keep; a new loader starts only when a step is skipped.
        prefetch_factor: batches each worker prepares ahead.
        pin_memory: return batches in page-locked memory (for asynchronous GPU copies).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        seed: int,
        vocabulary: Vocabulary | None,
        sample_dataset: Any | None = None,
        num_workers: int = 0,
        prefetch_factor: int = 2,
        pin_memory: bool = False,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.vocabulary = vocabulary
        self.sample_dataset = sample_dataset if sample_dataset is not None else dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.positions = _Positions(dataset, seed)
        self._next_step = -1
        weakref.finalize(self, _LOADERS.pop, id(self), None)
        self._slice: tuple[int, int] = (0, 1)

    def batch(self, step: int, rank: int = 0, world_size: int = 1) -> Batch:
        """The batch of ``step`` for process ``rank`` of ``world_size``."""
        if self.num_workers == 0:
            batch = _collate([self.positions[k] for k in _positions(self.batch_size, step, rank, world_size)])
            return batch.pin_memory() if self.pin_memory else batch
        # with workers: one DataLoader streaming consecutive steps, restarted on a jump
        loader_iter = _LOADERS.get(id(self))
        if loader_iter is None or step != self._next_step or (rank, world_size) != self._slice:
            self.close()  # the old workers stop before new ones start
            sampler = _Steps(self.batch_size, step, rank, world_size)
            loader = torch.utils.data.DataLoader(
                self.positions, batch_sampler=sampler, num_workers=self.num_workers,
                collate_fn=_collate, prefetch_factor=self.prefetch_factor, pin_memory=self.pin_memory,
                # its own generator: a loader seeds its workers from the global torch RNG
                # otherwise, which would shift the run's random draws (and results) whenever
                # workers are on or a loader restarts
                generator=torch.Generator().manual_seed(self.seed),
                worker_init_fn=_leave_stops_to_the_main_process,
            )
            loader_iter = _LOADERS[id(self)] = iter(loader)
            self._slice = (rank, world_size)
        self._next_step = step + 1
        return next(loader_iter)

    def close(self) -> None:
        """Stop the DataLoader workers now (a later :meth:`batch` starts new ones)."""
        _LOADERS.pop(id(self), None)

    def sample_batch(self, k: int, device: torch.device | str = "cpu") -> SampleBatch:
        """``k`` fixed examples, each paired with another example's description."""
        ds = self.sample_dataset
        ds.set_epoch(0)
        k = min(k, len(ds))
        items = [ds[i] for i in range(k)]
        texts = tuple(items[(i + 1) % k]["caption"] if k > 1 else items[i]["mismatched_caption"] for i in range(k))
        return SampleBatch(torch.stack([i["image"] for i in items]).to(device), texts)


def _positions(batch_size: int, step: int, rank: int, world_size: int) -> range:
    """The stream positions of process ``rank``'s share of ``step``'s global batch."""
    if batch_size % world_size:
        raise TextEditError(f"batch_size {batch_size} must be divisible by the number of processes {world_size}")
    share = batch_size // world_size
    start = step * batch_size + rank * share
    return range(start, start + share)


class _Steps:
    """The positions of steps ``start, start + 1, ...`` of one process: an endless, lazy
    batch sampler (a list of it would never end). It holds numbers only: a reference back
    to the :class:`TrainingData` would keep it alive through ``_LOADERS``."""

    def __init__(self, batch_size: int, start: int, rank: int, world_size: int):
        self.batch_size, self.start, self.rank, self.world_size = batch_size, start, rank, world_size

    def __iter__(self):
        step = self.start
        while True:
            yield list(_positions(self.batch_size, step, self.rank, self.world_size))
            step += 1


def open_dataset(data: Any, split: str, image_size: int, *, train: bool, seed: int, true_edits: bool = False) -> Any:
    """The data set a :class:`~textedit.training.config.TrainDataConfig` names, for one split
    (``true_edits``: items hold the true edit by the mismatched caption; generated data only).

    Raises:
        InputError: the data set cannot be read; when ``data.root`` looks like another
            layout than ``data.type``, the message says which ``data.type`` to set.
    """
    try:
        return _open_dataset(data, split, image_size, train=train, seed=seed, true_edits=true_edits)
    except InputError as exc:
        hint = _layout_hint(data)
        if hint:
            raise InputError(f"{exc} ({hint})") from None
        raise


def _layout_hint(data: Any) -> str:
    """What ``data.root`` looks like, when that is not ``data.type``."""
    root = data.root
    if data.type == "synthetic" or root is None or not Path(root).is_dir():
        return ""
    found = detect_layout(root)
    captioned = any(Path(root).glob("captions.*")) or any(Path(root).glob("*/captions.*"))
    if found == data.type or (found == "folder" and not captioned):
        return ""
    return f"{root} looks like a {found!r} data set: set data.type={found}"


def _open_dataset(data: Any, split: str, image_size: int, *, train: bool, seed: int, true_edits: bool) -> Any:
    common = dict(image_size=image_size, train=train, seed=seed, strict=data.strict)
    if not train:
        common["flip"] = False
    elif not data.flip:
        common["flip"] = False
    if data.type == "synthetic":
        return SyntheticCaptionDataset(
            data.generated_spec(), split=split, true_edits=true_edits, reword=data.reword if train else 0.0, **common
        )
    if data.type == "packed":
        packed = PackedDataset(
            data.root, split=split, true_edits=true_edits, reword=data.reword if train else 0.0, **common
        )
        if train and "family" in data.model_fields_set and packed.family not in (None, data.family):
            warnings.warn(
                f"data.family is {data.family!r}, but the packed data set {data.root} holds "
                f"{packed.family!r} scenes: training on those (a packed set's family is its own; "
                f"pack the {data.family} family with `textedit data pack --family {data.family}`)",
                UserWarning,
                stacklevel=2,
            )
        return packed
    if data.type == "folder":
        return FolderDataset(data.root, split=split, **common)
    if data.type == "cub":
        return CUBDataset(data.root, split=split, **common)
    if data.type == "oxford102":
        return Oxford102Dataset(data.root, split=split, image_dir=data.image_dir, **common)
    raise TextEditError(f"unknown data.type {data.type!r}")


def build_training_data(
    config: Any, vocabulary_words: Sequence[str] | None = None, device: torch.device | None = None
) -> TrainingData:
    """The :class:`TrainingData` of a :class:`~textedit.training.config.TrainConfig`.

    Args:
        config: the training config.
        vocabulary_words: the vocabulary to use (a resumed run keeps its own); None builds
            it from the training captions.
        device: where the batches go (the trainer's resolved device); with
            ``data.pin_memory`` unset, batches are pinned when it is a CUDA device.
    """
    image_size = _model_image_size(config.model)
    data = config.data
    dataset = open_dataset(
        data, data.split, image_size, train=True, seed=config.seed, true_edits=config.true_edits_needed()
    )
    sample = None
    if data.sample_split and data.sample_split != data.split:
        try:
            sample = open_dataset(data, data.sample_split, image_size, train=False, seed=config.seed)
        except InputError as exc:  # no such split: sample from the training split, and say so
            warnings.warn(
                f"data.sample_split {data.sample_split!r}: {exc}; the sample grids show training images",
                UserWarning,
                stacklevel=2,
            )
    if vocabulary_words is not None:
        vocabulary = Vocabulary(vocabulary_words)
    else:
        vocabulary = dataset.build_vocabulary(min_count=data.vocabulary_min_count)
    pin = data.pin_memory
    if pin is None:
        pin = device is not None and torch.device(device).type == "cuda"
    return TrainingData(
        dataset, config.batch_size, config.seed, vocabulary, sample, data.num_workers,
        prefetch_factor=data.prefetch_factor, pin_memory=pin,
    )


def _model_image_size(spec: dict[str, Any]) -> int:
    """The input size of the model a spec builds, without building it."""
    _, config = resolve_model_config(spec)
    size = getattr(config, "image_size", None)
    if not isinstance(size, int):
        raise TextEditError(f"cannot tell the input size of model {spec!r}: its config has no image_size")
    return size
