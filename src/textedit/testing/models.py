"""The model conformance kit: what every registered model must do, built-in or plug-in.

Shape legend: ``b`` batch, ``H`` the model's input size.

Use it in a plug-in's tests::

    from textedit.testing import run_model_conformance

    def test_my_model_conforms(tmp_path):
        run_model_conformance("my_model", workdir=tmp_path)

The checks (:data:`MODEL_CHECKS`), on the model built from its ``example_config()`` (for a
preset, from the preset's own config):

* ``contract``: it is an :class:`~textedit.interfaces.EditingModel` or a
  :class:`~textedit.interfaces.GeneratingModel`; ``edit`` of a tensor batch and of a PIL
  image (``generate`` of two descriptions and of one) returns ``(b, 3, H, H)`` images in
  ``[-1, 1]`` and only maps of the documented shapes; a generating model's images change
  with the seed, and image ``i`` depends on its description and seed only, not on the batch;
* ``determinism``: two edits (two generations with the same seeds) in eval mode are identical;
* ``training``: one iteration of its default recipe through the trainer, on a few
  generated images: finite metrics, and every parameter group changed;
* ``save_load``: ``save_pretrained`` then :func:`textedit.load` gives a model of the same
  type and config whose edits (generations) are identical;
* ``channels_last``: converted with ``model.to(memory_format=torch.channels_last)`` (the
  training option ``channels_last``), it reports that layout in ``memory_format`` and edits
  (generates) the same images up to rounding.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor

from textedit.editing.text import EditWarning

from textedit.interfaces.model import EditingModel, EditOutput, GeneratingModel, TextModel
from textedit.registry.api import resolve_model_config
from textedit.registry.kinds import MODEL_KIND, get_registry
from textedit.registry.presets import Preset
from textedit.serialization import load_composition
from textedit.testing.conformance import ConformanceError
from textedit.training.config import TrainConfig
from textedit.training.trainer import Trainer

__all__ = ["MODEL_CHECKS", "TINY_MIMNET", "registered_models", "run_model_conformance"]

MODEL_CHECKS = ("contract", "determinism", "training", "save_load", "channels_last")

#: A MIM-Net spec small enough for a test to edit 64-px images in milliseconds and train a
#: few steps in seconds on a CPU (``textedit.create_model(TINY_MIMNET)``).
TINY_MIMNET: dict[str, Any] = {
    "type": "mimnet_64",
    "text_encoder": {"embedding_dim": 16, "hidden_dim": 8},
    "memory_bank": {"num_slots": 8, "slot_dim": 8},
    "structure_extractor": {"channels": 8},
    "generator": {"channels": 16, "base_channels": 8},
    "discriminator": {"base_channels": 8, "max_channels": 16, "hidden_dim": 8},
}

_TEXTS = ("this bird has a red head and white wings", "the bird is blue")


def registered_models() -> list[str]:
    """Every registered model, built-in or plug-in, by name: the compositions that implement
    :class:`~textedit.interfaces.EditingModel` or :class:`~textedit.interfaces.GeneratingModel`.
    Presets are left out, and so are compositions that are neither (DAMSM), and plug-ins
    that fail to load (``textedit components`` shows them as failed), as
    :func:`~textedit.testing.registered_components` does."""
    registry = get_registry(MODEL_KIND)
    names = []
    for entry in registry.load_all():
        obj = entry.obj
        if entry.status == "loaded" and not isinstance(obj, Preset) and issubclass(obj, TextModel):
            names.append(registry.public_name(entry))
    return sorted(names)


def _fail(name: str, check: str, message: str) -> ConformanceError:
    return ConformanceError(f"model {name!r} fails {check!r}: {message}")


def _check_output(name: str, out: EditOutput, b: int, size: int) -> None:
    if not isinstance(out, EditOutput) or not out.images:
        raise _fail(name, "contract", f"edit must return an EditOutput with images, got {type(out).__name__}")
    if tuple(out.fine.shape) != (b, 3, size, size):
        raise _fail(name, "contract", f"the result is {tuple(out.fine.shape)}, expected {(b, 3, size, size)}")
    for k, image in enumerate(out.images):
        if image.dim() != 4 or image.shape[:2] != (b, 3):
            raise _fail(name, "contract", f"images[{k}] is {tuple(image.shape)}, expected (b, 3, s, s)")
        if not torch.isfinite(image).all() or image.min() < -1 - 1e-4 or image.max() > 1 + 1e-4:
            raise _fail(name, "contract", f"images[{k}] leaves [-1, 1] or is not finite")
    if out.localization is not None:
        loc = out.localization
        if loc.dim() != 4 or loc.shape[:2] != (b, 1) or loc.min() < -1e-6 or loc.max() > 1 + 1e-6:
            raise _fail(name, "contract", f"localization must be (b, 1, h, w) in [0, 1], got {tuple(loc.shape)}")
    if out.boundary is not None and tuple(out.boundary.shape) != (b, 1, size, size):
        raise _fail(name, "contract", f"boundary must be (b, 1, H, H), got {tuple(out.boundary.shape)}")


def _train_one_iteration(name: str, spec: dict[str, Any], workdir: Path) -> None:
    config = TrainConfig.model_validate({
        "model": spec,
        "data": {"type": "synthetic", "family": "birds", "num_images": 8, "sample_split": None},
        "batch_size": 2,
        "steps": 1,
        "ema_decay": None,
        "output_dir": str(workdir / "run"),
        "device": "cpu",
    })
    trainer = Trainer(config, progress=False)
    before = {g: [p.detach().clone() for p in ps] for g, ps in trainer.groups.items()}
    metrics = trainer.train_step()
    if not metrics or not all(torch.isfinite(torch.tensor(v)) for v in metrics.values()):
        raise _fail(name, "training", f"one iteration of its recipe gave {metrics}")
    for group, params in trainer.groups.items():
        if params and all(torch.equal(a, p) for a, p in zip(before[group], params)):
            raise _fail(name, "training", f"one iteration left parameter group {group!r} unchanged")


def run_model_conformance(
    name: str,
    *,
    checks: Iterable[str] = MODEL_CHECKS,
    workdir: str | Path | None = None,
    seed: int = 0,
) -> None:
    """Run the model checks (module docstring) on registered model ``name``; raise
    :class:`~textedit.testing.ConformanceError` on the first failure.

    Args:
        name: a registered composition, checked at its ``example_config()``, or a preset,
            checked as it is configured: its own components at its own widths (slower, for a
            preset of full-size networks).
        checks: a subset of :data:`MODEL_CHECKS`.
        workdir: where ``training`` and ``save_load`` write (a temporary folder by default).
        seed: seed of the model's initialisation and the example inputs.
    """
    checks = tuple(checks)
    unknown = set(checks) - set(MODEL_CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; choose from {MODEL_CHECKS}")
    composition, config = resolve_model_config(name)
    if not issubclass(composition, (EditingModel, GeneratingModel)):
        raise _fail(
            name, "contract",
            f"{composition.__name__} is not a textedit.interfaces.EditingModel or GeneratingModel",
        )
    # a preset is checked as it is configured (its own components, at its own widths)
    example = config if isinstance(get_registry(MODEL_KIND).get(name), Preset) else composition.example_config()
    spec = {**example.to_dict(), "type": name}
    torch.manual_seed(seed)
    model = composition.from_config(example)
    size = model.image_size
    images = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EditWarning)  # the example vocabulary is tiny
        _run_checks(name, model, spec, images, checks, workdir)


def _run_checks(
    name: str, model: TextModel, spec: dict[str, Any], images: Tensor, checks: tuple[str, ...], workdir: Any
) -> None:
    size = model.image_size
    generating = isinstance(model, GeneratingModel)

    def run(m: Any) -> EditOutput:
        if generating:
            return m.generate(list(_TEXTS), seed=[3, 4], allow_unknown=True)
        return m.edit(images, list(_TEXTS), allow_unknown=True)

    try:
        out = run(model)
    except TypeError as exc:
        raise _fail(name, "contract", str(exc)) from exc
    if "contract" in checks:
        _check_output(name, out, 2, size)
        if generating:
            single = model.generate(_TEXTS[1], seed=4, allow_unknown=True)
            if not torch.allclose(single.fine[0], out.fine[1], atol=1e-5):
                raise _fail(name, "contract", "an image drawn alone differs from the same description and seed drawn in a batch")
            if torch.equal(model.generate(_TEXTS[1], seed=5, allow_unknown=True).fine, single.fine):
                raise _fail(name, "contract", "two seeds drew the same image")
        else:
            picture = Image.new("RGB", (size + 7, size), (200, 40, 40))
            single = model.edit(picture, _TEXTS[0], allow_unknown=True)
        _check_output(name, single, 1, size)
        if single.image.size != (size, size):
            raise _fail(name, "contract", f"result.image is {single.image.size}, expected {(size, size)}")
    if "determinism" in checks:
        if not torch.equal(out.fine, run(model).fine):
            raise _fail(name, "determinism", "two runs on the same input in eval mode differ")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        if "training" in checks:
            _train_one_iteration(name, spec, Path(tmp))
        if "save_load" in checks:
            model.save_pretrained(Path(tmp) / "saved")
            loaded = load_composition(Path(tmp) / "saved")
            if type(loaded) is not type(model) or loaded.config != model.config:
                raise _fail(name, "save_load", "the reloaded model has another type or config")
            if not torch.equal(run(loaded).fine, out.fine):
                raise _fail(name, "save_load", "the reloaded model's results differ")
    if "channels_last" in checks:
        converted = copy.deepcopy(model).to(memory_format=torch.channels_last)
        if converted.memory_format != torch.channels_last:
            raise _fail(name, "channels_last", f"memory_format says {converted.memory_format} after the conversion")
        difference = (run(converted).fine - out.fine).abs().max().item()
        if difference > 1e-4:
            raise _fail(name, "channels_last", f"its results differ from the planar model's by up to {difference:.2g}")
