"""The conformance kit: the checks every component passes, built-in or plug-in.

A plug-in author runs it in their own tests::

    from textedit.testing import run_conformance

    def test_my_localizer_conforms():
        run_conformance(MyLocalizer.from_config(MyLocalizer.example_config()))

Each check raises :class:`ConformanceError` naming the component, the check and what was
wrong. The checks: ``forward`` (runs on :meth:`~textedit.Component.example_inputs`),
``contract`` (the output dataclass, shapes and value ranges of the kind),
``config_roundtrip`` (every config field has a description; config -> JSON -> config is
equal and builds), ``save_load``
(``save_pretrained`` -> ``from_pretrained`` gives identical outputs; the component must be
registered, by an entry point or in code, since loading finds its class by name),
``backward`` (every trainable parameter takes part and receives a finite gradient) and
``determinism`` (two eval forwards agree).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from textedit.interfaces import (
    Component,
    Discriminator,
    DiscriminatorOutput,
    Generator,
    GeneratorOutput,
    ImageEncoder,
    ImageEncoding,
    Localization,
    Localizer,
    MemoryBank,
    MemoryRead,
    Structure,
    StructureExtractor,
    TextEncoder,
    TextEncoding,
)
from textedit.registry.kinds import KINDS, get_registry
from textedit.serialization import load_component

__all__ = ["ConformanceError", "run_conformance", "CHECKS", "registered_components", "tensors_of"]

CHECKS = ("forward", "contract", "config_roundtrip", "save_load", "backward", "determinism")
ATOL = 1e-5


class ConformanceError(AssertionError):
    """A component broke its kind's contract."""


def _fail(component: Component, check: str, message: str) -> ConformanceError:
    return ConformanceError(f"{type(component).__qualname__} ({component.kind}) fails {check!r}: {message}")


def tensors_of(value: Any) -> list[Tensor]:
    """Every tensor inside an output (dataclasses, tuples, lists, dicts), in order."""
    if isinstance(value, Tensor):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [t for f in dataclasses.fields(value) for t in tensors_of(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_of(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_of(v)]
    return []


def _shape(component: Component, check: str, name: str, tensor: Tensor, expected: tuple[int, ...]) -> None:
    if tuple(tensor.shape) != tuple(expected):
        raise _fail(component, check, f"{name} has shape {tuple(tensor.shape)}, expected {tuple(expected)}")


def _in_range(component: Component, name: str, tensor: Tensor, low: float, high: float) -> None:
    if tensor.numel() and (tensor.min() < low - ATOL or tensor.max() > high + ATOL):
        raise _fail(
            component, "contract",
            f"{name} must lie in [{low}, {high}], found [{tensor.min().item():.4g}, {tensor.max().item():.4g}]",
        )


def _zero_where_masked(component: Component, name: str, values: Tensor, mask: Tensor) -> None:
    padded = values[~mask]
    if padded.numel() and padded.abs().max() > ATOL:
        raise _fail(component, "contract", f"{name} must be zero at padded positions")


def _check_contract(component: Component, inputs: dict[str, Any], out: Any) -> None:
    for t in tensors_of(out):
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise _fail(component, "contract", "output contains NaN or inf")
    checker = _CONTRACTS.get(component.kind)
    if checker is None:
        raise _fail(component, "contract", f"unknown kind {component.kind!r}")
    checker(component, inputs, out)


def _text_encoder_contract(c: TextEncoder, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, TextEncoding):
        raise _fail(c, "contract", f"forward must return TextEncoding, got {type(out).__name__}")
    tokens = inputs["tokens"]
    b, t = tokens.ids.shape
    _shape(c, "contract", "words", out.words, (b, t, c.word_dim))
    _shape(c, "contract", "sentence", out.sentence, (b, c.sentence_dim))
    if not torch.equal(out.word_mask.cpu(), tokens.mask.cpu()):
        raise _fail(c, "contract", "word_mask must equal the tokens' mask")
    _zero_where_masked(c, "words", out.words, out.word_mask)


def _memory_bank_contract(c: MemoryBank, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, MemoryRead):
        raise _fail(c, "contract", f"forward must return MemoryRead, got {type(out).__name__}")
    words, mask = inputs["words"], inputs["word_mask"]
    b, t, _ = words.shape
    _shape(c, "contract", "texture", out.texture, (b, t, c.slot_dim))
    _zero_where_masked(c, "texture", out.texture, mask)
    read = c(words, mask, return_attention=True)
    if read.attention is None:
        raise _fail(c, "contract", "return_attention=True must return the attention weights")
    _shape(c, "contract", "attention", read.attention, (b, t, c.num_slots))
    _in_range(c, "attention", read.attention, 0.0, 1.0)
    sums = read.attention.sum(-1)
    if not torch.allclose(sums[mask], torch.ones_like(sums[mask]), atol=1e-4):
        raise _fail(c, "contract", "attention of a valid word must sum to 1 over the memories")
    _zero_where_masked(c, "attention", read.attention, mask)
    low, high = c.memories.min(0).values, c.memories.max(0).values
    valid = read.texture[mask]
    if valid.numel() and ((valid < low - 1e-4).any() or (valid > high + 1e-4).any()):
        raise _fail(c, "contract", "texture must lie in the memories' convex hull")


def _localizer_contract(c: Localizer, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, Localization):
        raise _fail(c, "contract", f"forward must return Localization, got {type(out).__name__}")
    coarse, original = inputs["coarse"], inputs["original"]
    b, ch, h, w = coarse.shape
    _shape(c, "contract", "weights", out.weights, (b, 1, h, w))
    _shape(c, "contract", "fused", out.fused, (b, ch, h, w))
    _in_range(c, "weights", out.weights, 0.0, 1.0)
    low, high = torch.minimum(coarse, original), torch.maximum(coarse, original)
    if (out.fused < low - 1e-4).any() or (out.fused > high + 1e-4).any():
        raise _fail(c, "contract", "fused features must lie between coarse and original")


def _structure_contract(c: StructureExtractor, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, Structure):
        raise _fail(c, "contract", f"forward must return Structure, got {type(out).__name__}")
    b, _, h, w = inputs["image"].shape
    _shape(c, "contract", "boundary", out.boundary, (b, 1, h, w))
    _in_range(c, "boundary", out.boundary, 0.0, 1.0)
    _shape(c, "contract", "features", out.features, (b, c.out_channels, h // c.reduction, w // c.reduction))


def _generator_contract(c: Generator, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, GeneratorOutput):
        raise _fail(c, "contract", f"forward must return GeneratorOutput, got {type(out).__name__}")
    b = inputs["text"].sentence.shape[0]
    if len(out.images) != len(c.stage_sizes):
        raise _fail(c, "contract", f"{len(out.images)} stage images for stage_sizes {c.stage_sizes}")
    for k, (image, size) in enumerate(zip(out.images, c.stage_sizes)):
        _shape(c, "contract", f"images[{k}]", image, (b, 3, size, size))
        _in_range(c, f"images[{k}]", image, -1.0, 1.0)
    if not c.reads_image and inputs.get("noise") is not None:
        other = c(**{**inputs, "noise": -inputs["noise"]})
        if torch.equal(other.images[-1], out.images[-1]):
            raise _fail(c, "contract", "a text-to-image generator's images do not depend on its noise")
    if out.localization is not None:
        if out.localization.shape[:2] != (b, 1):
            raise _fail(c, "contract", f"localization must be (b, 1, h, w), got {tuple(out.localization.shape)}")
        _in_range(c, "localization", out.localization, 0.0, 1.0)


def _discriminator_contract(c: Discriminator, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, DiscriminatorOutput):
        raise _fail(c, "contract", f"forward must return DiscriminatorOutput, got {type(out).__name__}")
    b = inputs["images"][0].shape[0]
    stages = len(c.stage_sizes)
    matching_only = len(out.reality) == 0 and out.matching is not None
    if not matching_only and len(out.reality) != stages:
        raise _fail(
            c, "contract",
            f"{len(out.reality)} reality scores for {stages} stages (a purely matching-aware "
            "discriminator returns reality=() and one matching logit per stage instead)",
        )
    for k, r in enumerate(out.reality):
        _shape(c, "contract", f"reality[{k}]", r, (b,))
    if out.matching is not None:
        if len(out.matching) != stages:
            raise _fail(c, "contract", f"{len(out.matching)} matching scores for {stages} stages")
        for k, m in enumerate(out.matching):
            _shape(c, "contract", f"matching[{k}]", m, (b,))
    if c.word_dim is not None and "text" in inputs and not matching_only:
        if out.conformity is None or len(out.conformity) != stages:
            raise _fail(c, "contract", "a conditional discriminator given text must return one conformity per stage")
        for k, s in enumerate(out.conformity):
            _shape(c, "contract", f"conformity[{k}]", s, (b,))
            if (s > 1e-6).any():
                raise _fail(c, "contract", f"conformity[{k}] holds log-probabilities, which must be <= 0")


def _image_encoder_contract(c: ImageEncoder, inputs: dict[str, Any], out: Any) -> None:
    if not isinstance(out, ImageEncoding):
        raise _fail(c, "contract", f"forward must return ImageEncoding, got {type(out).__name__}")
    b = inputs["image"].shape[0]
    d, r = c.feature_dim, c.region_size
    _shape(c, "contract", "regions", out.regions, (b, d, r, r))
    _shape(c, "contract", "global_feature", out.global_feature, (b, d))
    other = c.image_size // 2 + 1  # any input size is resized to image_size
    resized = c(torch.nn.functional.interpolate(inputs["image"], size=(other, other)))
    _shape(c, "contract", f"regions of a {other} px input", resized.regions, (b, d, r, r))


_CONTRACTS: dict[str, Callable[[Any, dict[str, Any], Any], None]] = {
    "text_encoder": _text_encoder_contract,
    "memory_bank": _memory_bank_contract,
    "localizer": _localizer_contract,
    "structure_extractor": _structure_contract,
    "generator": _generator_contract,
    "discriminator": _discriminator_contract,
    "image_encoder": _image_encoder_contract,
}


def _same(component: Component, check: str, a: Any, b: Any, atol: float = ATOL) -> None:
    ta, tb = tensors_of(a), tensors_of(b)
    if len(ta) != len(tb):
        raise _fail(component, check, f"outputs differ in structure ({len(ta)} vs {len(tb)} tensors)")
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x.shape != y.shape or not torch.allclose(x.float(), y.float(), atol=atol, rtol=1e-5):
            raise _fail(component, check, f"output tensor {i} differs (max |diff| "
                        f"{(x.float() - y.float()).abs().max().item() if x.shape == y.shape else 'shape'})")


@contextlib.contextmanager
def _as_failure(component: Component, check: str, what: str) -> Iterator[None]:
    """An exception inside the block as the failure of ``check``, naming the component."""
    try:
        yield
    except ConformanceError:
        raise
    except Exception as exc:
        raise _fail(component, check, f"{what} raised {type(exc).__name__}: {exc}") from exc


def _check_backward(component: Component, inputs: dict[str, Any]) -> None:
    component.train()
    with _as_failure(component, "backward", "the forward pass in train mode"):
        out = component(**inputs)
    loss = sum(t.float().mean() for t in tensors_of(out) if t.requires_grad)
    if not isinstance(loss, Tensor):
        if any(p.requires_grad for p in component.parameters()):
            raise _fail(component, "backward", "no output depends on the trainable parameters")
        return
    component.zero_grad(set_to_none=True)
    loss.backward()
    named = [(name, p.grad) for name, p in component.named_parameters() if p.requires_grad]
    if not named:
        return
    bad = [name for name, g in named if g is not None and not torch.isfinite(g).all()]
    if bad:
        raise _fail(component, "backward", f"the gradients of {bad[:5]} contain NaN or inf")
    unused = [name for name, g in named if g is None]
    if unused:
        raise _fail(
            component,
            "backward",
            f"{len(unused)} trainable parameter(s) take no part in the forward pass "
            f"({unused[:5]}{' ...' if len(unused) > 5 else ''}): remove them, or freeze them "
            f"with requires_grad_(False) if they are used elsewhere",
        )
    if all(g.abs().sum() == 0 for _, g in named):
        raise _fail(component, "backward", "no trainable parameter received a gradient")
    component.zero_grad(set_to_none=True)


def run_conformance(
    component: Component,
    *,
    checks: Iterable[str] = CHECKS,
    batch_size: int = 2,
    seed: int = 0,
    workdir: str | Path | None = None,
) -> None:
    """Run the conformance checks on one component instance; raise on the first failure.

    Args:
        component: an instance, e.g. ``cls.from_config(cls.example_config())``.
        checks: a subset of :data:`CHECKS`.
        batch_size: batch of the example inputs.
        seed: seed of the example inputs.
        workdir: where ``save_load`` writes (a temporary directory by default).
    """
    checks = tuple(checks)
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; choose from {CHECKS}")
    if not isinstance(component, Component):
        raise TypeError(f"run_conformance needs a textedit Component instance, got {component!r}")
    torch.manual_seed(seed)
    with _as_failure(component, "forward", "example_inputs"):
        inputs = component.example_inputs(batch_size=batch_size, seed=seed)
    component.eval()
    with _as_failure(component, "forward", "the forward pass on example_inputs"), torch.no_grad():
        out = component(**inputs)
    if "contract" in checks:
        with torch.no_grad():
            _check_contract(component, inputs, out)
    if "determinism" in checks:
        with torch.no_grad():
            _same(component, "determinism", out, component(**inputs))
    if "config_roundtrip" in checks:
        undescribed = [f for f, info in component.config_class.model_fields.items() if not info.description]
        if undescribed:
            raise _fail(
                component, "config_roundtrip",
                f"{component.config_class.__name__} fields without a description (give each "
                f"Field(..., description=...): the generated API reference shows them): {undescribed}",
            )
        data = json.loads(json.dumps(component.config.to_dict()))
        again = component.config_class.model_validate(data)
        if again != component.config:
            raise _fail(component, "config_roundtrip", "config -> JSON -> config is not equal")
        rebuilt = type(component)(again)
        if {k: v.shape for k, v in rebuilt.state_dict().items()} != {
            k: v.shape for k, v in component.state_dict().items()
        }:
            raise _fail(component, "config_roundtrip", "a component rebuilt from its config has other parameters")
    if "save_load" in checks:
        with tempfile.TemporaryDirectory(dir=workdir) as tmp, _as_failure(
            component, "save_load", "saving and loading (the component must be registered)"
        ):
            component.save_pretrained(Path(tmp) / "saved")
            loaded = load_component(Path(tmp) / "saved", kind=component.kind).to(component.device)
        if type(loaded) is not type(component) or loaded.config != component.config:
            raise _fail(component, "save_load", "the reloaded component has another type or config")
        loaded.eval()
        with torch.no_grad():
            _same(component, "save_load", out, loaded(**inputs))
    if "backward" in checks:
        _check_backward(component, inputs)
    component.eval()


def registered_components(kinds: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """``(kind, name)`` of every loadable registered component, for ``pytest.mark.parametrize``."""
    out = []
    for kind in kinds or KINDS:
        registry = get_registry(kind)
        for entry in registry.load_all():
            if entry.status == "loaded":
                out.append((kind, registry.public_name(entry)))
    return out
