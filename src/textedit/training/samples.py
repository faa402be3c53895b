"""Sample grids written during training: per description, the input, coarse (multi-stage
models), fine and the edit map (when the model has one) of an editing model, or the coarse
and fine images a text-to-image model draws (seed ``i`` for row ``i``, the same every time)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from textedit.interfaces.model import GeneratingModel
from textedit.training.data import SampleBatch
from textedit.utils.atomic import atomic_save
from textedit.visualize import heatmap, labelled_grid, to_pil

__all__ = ["sample_grid"]


@torch.no_grad()
def sample_grid(model: nn.Module, sample: SampleBatch, path: Path, cell: int = 96) -> Path:
    """Edit ``sample.images`` with ``sample.texts`` (or draw ``sample.texts``) and save a
    labelled grid to ``path``."""
    generating = isinstance(model, GeneratingModel)
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():  # long training captions are cut as in training
            warnings.simplefilter("ignore")
            texts = list(sample.texts)
            out = model.generate(texts, seed=0) if generating else model.edit(sample.images, texts)
    finally:
        model.train(was_training)
    staged = len(out.images) > 1  # a one-stage model has no coarse image
    localization = getattr(out, "localization", None)
    rows = []
    for i in range(len(sample.texts)):
        row = [] if generating else [to_pil(sample.images[i])]
        row += [*([to_pil(out.coarse[i])] if staged else []), to_pil(out.fine[i])]
        if localization is not None:
            row.append(heatmap(localization[i], cell))
        rows.append(row)
    titles = [] if generating else ["input"]
    titles += ["coarse", "fine"] if staged else ["result"]
    titles += ["edit map"] if localization is not None else []
    grid = labelled_grid(rows, titles, [f"“{t}”" for t in sample.texts], cell=cell)
    atomic_save(path, lambda tmp: grid.save(tmp, format="PNG"))
    return path
