"""Sample grids written during training: input, coarse (multi-stage models), fine and the edit
map (when the model has one) per description."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from textedit.training.data import SampleBatch
from textedit.utils.atomic import atomic_save
from textedit.visualize import heatmap, labelled_grid, to_pil

__all__ = ["sample_grid"]


@torch.no_grad()
def sample_grid(model: nn.Module, sample: SampleBatch, path: Path, cell: int = 96) -> Path:
    """Edit ``sample.images`` with ``sample.texts`` and save a labelled grid to ``path``."""
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():  # long training captions are cut as in training
            warnings.simplefilter("ignore")
            out = model.edit(sample.images, list(sample.texts))
    finally:
        model.train(was_training)
    staged = len(out.images) > 1  # a one-stage model has no coarse image
    rows = []
    for i in range(sample.images.shape[0]):
        row = [to_pil(sample.images[i]), *([to_pil(out.coarse[i])] if staged else []), to_pil(out.fine[i])]
        if out.localization is not None:
            row.append(heatmap(out.localization[i], cell))
        rows.append(row)
    titles = ["input", *(["coarse", "fine"] if staged else ["result"])]
    titles += ["edit map"] if out.localization is not None else []
    grid = labelled_grid(rows, titles, [f"“{t}”" for t in sample.texts], cell=cell)
    atomic_save(path, lambda tmp: grid.save(tmp, format="PNG"))
    return path
