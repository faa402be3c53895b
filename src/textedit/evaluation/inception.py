"""The Inception-v3 of FID and IS, loaded from a local weight file (or the hub when reachable).

Shape legend: ``b`` batch, ``H``/``W`` image size, ``n`` items, ``d`` = 2048 pool features.

The network is the one every published FID uses: TensorFlow's 2015-12-05 Inception-v3 as
ported by ``pytorch-fid`` (``pt_inception-2015-12-05-6726825d.pth``) and ``torch-fidelity``
(``weights-inception-2015-12-05-6726825d.pth``; the same tensors). Its blocks differ slightly
from torchvision's ImageNet Inception (average pools that do not count padding, a max pool
in the last block, 1008 classes), so torchvision's ImageNet file is refused with a message
saying so.

Where the weights come from, first found wins:

1. the ``path`` argument (``textedit eval --inception-weights FILE``);
2. the environment variable ``TEXTEDIT_INCEPTION_WEIGHTS``;
3. either file name above in torch's hub cache (``$TORCH_HOME/hub/checkpoints``), where
   ``pytorch-fid`` and ``torch-fidelity`` keep them;
4. with ``download=True`` only, pytorch-fid's release URL (saved to that cache).

Protocol: images in ``[0, 1]`` are resized to 299 × 299 (bilinear, ``align_corners=False``)
and scaled to ``[-1, 1]`` (pytorch-fid); features are the 2048-d last average pool, IS uses
the softmax of the 1008 logits. FID and KID are computed by ``torchmetrics`` from these
features (:func:`frechet_distance`, :func:`kernel_distance`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textedit.components.image_encoder.inception import DEEP_BLOCKS, TRUNK_BLOCKS
from textedit.errors import CheckpointError, MissingDependencyError

#: Inception-v3's blocks in forward order, by their torchvision / pytorch-fid attribute names
INCEPTION_BLOCKS = TRUNK_BLOCKS + DEEP_BLOCKS


__all__ = [
    "FIDInceptionV3",
    "InceptionFeatures",
    "load_inception",
    "find_inception_weights",
    "frechet_distance",
    "kernel_distance",
    "WEIGHT_FILES",
    "FID_WEIGHTS_URL",
    "ENV_VAR",
    "INCEPTION_BLOCKS",
]

WEIGHT_FILES = ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth")
FID_WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
ENV_VAR = "TEXTEDIT_INCEPTION_WEIGHTS"


@dataclass
class InceptionFeatures:
    """``pool``: ``(b, 2048)`` features (FID, KID); ``logits``: ``(b, 1008)`` (IS)."""

    pool: Tensor
    logits: Tensor


def _fid_blocks():
    from torchvision.models.inception import InceptionA, InceptionC, InceptionE

    class FIDInceptionA(InceptionA):
        def _forward(self, x):
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            pool = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return [self.branch1x1(x), b5, b3, pool]

    class FIDInceptionC(InceptionC):
        def _forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            d = x
            for layer in (
                self.branch7x7dbl_1,
                self.branch7x7dbl_2,
                self.branch7x7dbl_3,
                self.branch7x7dbl_4,
                self.branch7x7dbl_5,
            ):
                d = layer(d)
            pool = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
            return [self.branch1x1(x), b7, d, pool]

    class FIDInceptionE(InceptionE):
        def __init__(self, in_channels: int, max_pool: bool):
            super().__init__(in_channels)
            self.max_pool = max_pool

        def _forward(self, x):
            b3 = self.branch3x3_1(x)
            b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
            d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
            pooled = (
                F.max_pool2d(x, 3, 1, 1)
                if self.max_pool
                else F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
            )
            return [self.branch1x1(x), b3, d, self.branch_pool(pooled)]

    return FIDInceptionA, FIDInceptionC, FIDInceptionE


class FIDInceptionV3(nn.Module):
    """pytorch-fid's Inception-v3 (random weights until :func:`load_inception` fills them).

    The state-dict keys are those of the weight files (torchvision's names, no ``AuxLogits``,
    a 1008-class ``fc``). ``num_features`` tells torchmetrics the feature width.
    """

    num_features = 2048

    def __init__(self):
        super().__init__()
        from torchvision.models import Inception3

        A, C, E = _fid_blocks()
        net = Inception3(
            num_classes=1008, aux_logits=False, init_weights=False, transform_input=False
        )
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d = A(192, 32), A(256, 64), A(288, 64)
        net.Mixed_6b, net.Mixed_6c = C(768, 128), C(768, 160)
        net.Mixed_6d, net.Mixed_6e = C(768, 160), C(768, 192)
        net.Mixed_7b, net.Mixed_7c = E(1280, max_pool=False), E(2048, max_pool=True)
        for name, module in net.named_children():
            if name not in ("AuxLogits", "dropout"):
                self.add_module(name, module)
        self.eval()

    def train(self, mode: bool = True) -> "FIDInceptionV3":
        return super().train(False)  # a fixed feature extractor: batch norm stays in eval mode

    @torch.no_grad()
    def forward(self, image: Tensor) -> InceptionFeatures:
        """Features of ``(b, 3, H, W)`` images in ``[0, 1]`` (any size; resized to 299)."""
        x = F.interpolate(image.float(), size=(299, 299), mode="bilinear", align_corners=False)
        x = 2.0 * x - 1.0
        for name in INCEPTION_BLOCKS:
            x = getattr(self, name)(x)
        pool = x.mean((2, 3))
        return InceptionFeatures(pool, self.fc(pool))


def _hub_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_inception_weights(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The first weight file found in the order of the module doc (without downloading).

    Raises:
        CheckpointError: ``path`` (or the environment variable) names a file that does not exist.
    """
    for given, where in ((path, "--inception-weights"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if given:
            p = Path(given).expanduser()
            if not p.is_file():
                raise CheckpointError(
                    f"{where} names {p}, which does not exist; give the path of {WEIGHT_FILES[0]} "
                    f"(pytorch-fid) or {WEIGHT_FILES[1]} (torch-fidelity)"
                )
            return p
    for name in WEIGHT_FILES:
        if (_hub_dir() / name).is_file():
            return _hub_dir() / name
    return None


def _not_found_message(reason: str) -> str:
    return (
        f"IS, FID and KID need the Inception-v3 weights of FID ({WEIGHT_FILES[0]}, 91 MB), and "
        f"{reason}. "
        f"Either download {FID_WEIGHTS_URL} where the internet is reachable and pass "
        "--inception-weights FILE "
        f"(or set {ENV_VAR}=FILE, or put it in {_hub_dir()}), or leave IS/FID/KID out (--metrics "
        "without them; "
        f"on generated data the classifier score and CFD stand in for them)"
    )


def load_inception(
    path: str | os.PathLike[str] | None = None,
    download: bool = False,
    device: str | torch.device = "cpu",
) -> tuple[FIDInceptionV3, Path]:
    """The FID Inception-v3 with its weights, and the file they came from.

    Raises:
        CheckpointError: no weight file found (and ``download`` off or failing), or a file
            that is not the FID Inception (the message says which file it looks like).
    """
    file = find_inception_weights(path)
    if file is None and download:
        try:
            torch.hub.load_state_dict_from_url(FID_WEIGHTS_URL, progress=True, map_location="cpu")
        except Exception as exc:  # no network, proxy, ...: the message says what to do
            raise CheckpointError(
                _not_found_message(f"downloading it failed ({type(exc).__name__}: {exc})")
            ) from exc
        file = find_inception_weights()
    if file is None:
        raise CheckpointError(_not_found_message("none was found locally"))
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's own text suggests weights_only=False: not for a damaged file
        raise CheckpointError(
            f"cannot read {file} as a PyTorch weight file ({type(exc).__name__}): it is damaged, or "
            f"not a weight file; the FID Inception weights are {WEIGHT_FILES[0]} ({FID_WEIGHTS_URL})"
        ) from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    model = FIDInceptionV3()
    _check_keys(model, state, file)
    model.load_state_dict(state, strict=False)  # only num_batches_tracked may be absent
    return model.to(device), Path(file)


def _check_keys(model: nn.Module, state: dict, file: Path) -> None:
    if not isinstance(state, dict):
        raise CheckpointError(
            f"{file} holds a {type(state).__name__}, not a state dict of Inception-v3"
        )
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    theirs = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    if (
        any(k.startswith("AuxLogits.") for k in theirs)
        or getattr(theirs.get("fc.weight"), "shape", (0,))[0] == 1000
    ):
        raise CheckpointError(
            f"{file} looks like torchvision's ImageNet Inception-v3 (1000 classes, auxiliary "
            "head); FID and IS "
            f"use the TensorFlow FID network instead: {WEIGHT_FILES[0]} from {FID_WEIGHTS_URL}"
        )
    missing = sorted(set(own) - set(theirs))
    unexpected = sorted(set(theirs) - set(own))
    shapes = sorted(
        k for k in set(own) & set(theirs) if tuple(own[k].shape) != tuple(theirs[k].shape)
    )
    if missing or unexpected or shapes:
        detail = "; ".join(
            f"{what} {len(keys)} (e.g. {keys[0]})"
            for what, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("other shapes", shapes),
            )
            if keys
        )
        raise CheckpointError(
            f"{file} is not the FID Inception-v3 weight file ({detail}); use {WEIGHT_FILES[0]} or "
            f"{WEIGHT_FILES[1]}"
        )


class _Features(nn.Module):
    """Hands precomputed features to torchmetrics (which then only does the statistics)."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, features: Tensor) -> Tensor:
        return features


def _torchmetrics(what: str):
    try:
        from torchmetrics.image import fid, kid
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} is computed with torchmetrics; pip install 'torchmetrics>=1.0'"
        ) from exc
    return fid, kid


def frechet_distance(reference: Tensor, output: Tensor) -> float:
    """FID formula (torchmetrics' ``FrechetInceptionDistance``) between two feature sets.

    Args:
        reference: ``(n, d)`` features of the reference images (the "real" set).
        output: ``(m, d)`` features of the outputs; ``n, m >= 2``.
    """
    fid, _ = _torchmetrics("FID")
    metric = fid.FrechetInceptionDistance(
        feature=_Features(reference.shape[1]), reset_real_features=False
    )
    metric.update(reference.double(), real=True)
    metric.update(output.double(), real=False)
    # a distance: the matrix square root's rounding can leave -1e-6 for identical sets
    return max(0.0, float(metric.compute()))


def kernel_distance(
    reference: Tensor, output: Tensor, subsets: int = 100, subset_size: int = 1000
) -> tuple[float, float]:
    """KID (torchmetrics' ``KernelInceptionDistance``, cubic kernel): mean and std over
    ``subsets`` random subsets of ``min(subset_size, n, m)`` items (torch's global seed)."""
    _, kid = _torchmetrics("KID")
    import warnings

    size = min(subset_size, reference.shape[0], output.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "will save all extracted features": intended here
        metric = kid.KernelInceptionDistance(
            feature=_Features(reference.shape[1]), subsets=subsets, subset_size=size
        )
    metric.update(reference.double(), real=True)
    metric.update(output.double(), real=False)
    mean, std = metric.compute()
    return float(mean), float(std)
