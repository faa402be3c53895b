"""Every registered component, built-in or plug-in, passes the conformance kit."""

from __future__ import annotations

import pytest

from textedit.registry.kinds import get_registry
from textedit.testing import registered_components, run_conformance

CASES = registered_components()


def test_every_kind_has_a_builtin():
    kinds = {kind for kind, _ in CASES}
    assert kinds == {
        "text_encoder", "memory_bank", "localizer", "structure_extractor", "generator", "discriminator",
        "image_encoder",
    }


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}:{n}" for k, n in CASES])
def test_conformance(kind, name, tmp_path):
    cls = get_registry(kind).get(name)
    component = cls.from_config(cls.example_config())
    run_conformance(component, workdir=tmp_path)


def _broken_localizers():
    import torch
    from torch import nn

    from textedit.components.localizer.tlu import TLULocalizer as TLU

    class Crashes(TLU):
        def forward(self, coarse, original, texture):
            return super().forward(torch.cat([coarse, coarse], 1), original, texture)  # a width bug

    class Unused(TLU):
        def __init__(self, config=None):
            super().__init__(config)
            self.forgotten = nn.Linear(2, 2)  # built, never called

    class CrashesInTraining(TLU):
        def forward(self, coarse, original, texture):
            if self.training:
                raise RuntimeError("boom in train mode")
            return super().forward(coarse, original, texture)

    return Crashes, Unused, CrashesInTraining


@pytest.mark.parametrize(
    ("which", "message"),
    [(0, "'forward'.*raised"), (1, "'backward'.*forgotten.weight"), (2, "'backward'.*train mode raised RuntimeError")],
)
def test_the_kit_names_the_check_a_broken_component_fails(which, message):
    from textedit.testing import ConformanceError

    cls = _broken_localizers()[which]
    with pytest.raises(ConformanceError, match=message):
        run_conformance(cls(cls.example_config()), checks=("forward", "backward"))


def test_the_kit_names_config_fields_without_a_description():
    from pydantic import Field

    from textedit.components.localizer.tlu import TLULocalizer as TLU
    from textedit.testing import ConformanceError

    class QuietConfig(TLU.config_class):
        sharpness: float = Field(1.0, gt=0)  # no description

    class Quiet(TLU):
        config_class = QuietConfig

    with pytest.raises(ConformanceError, match=r"'config_roundtrip'.*without a description.*\['sharpness'\]"):
        run_conformance(Quiet(Quiet.example_config()), checks=("config_roundtrip",))
