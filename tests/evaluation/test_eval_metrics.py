"""The metric functions on cases whose answer is known."""

from __future__ import annotations

import math

import pytest
import torch

from textedit.errors import InputError
from textedit.evaluation import metrics as M


def test_identical_images_have_zero_diff():
    x = torch.rand(3, 3, 16, 16)
    assert torch.equal(M.diff(x, x.clone()), torch.zeros(3))


def test_known_colour_shift_gives_expected_diff():
    image = torch.full((2, 3, 8, 8), 0.25)
    output = image.clone()
    output[:, 0] += 0.3  # red channel shifted everywhere: mean over 3 channels = 0.1
    assert torch.allclose(M.diff(image, output), torch.full((2,), 0.1))
    half = image.clone()
    half[:, :, :4] = 0.75  # all channels of half the pixels shifted by 0.5: mean 0.25
    assert torch.allclose(M.diff(image, half), torch.full((2,), 0.25))


def test_diff_is_in_unit_range_and_symmetric():
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert M.diff(a, b).item() == 1.0 == M.diff(b, a).item()


def test_manipulative_precision_formula():
    assert M.manipulative_precision(0.2, 0.5) == pytest.approx(0.4)
    out = M.manipulative_precision(torch.tensor([0.0, 1.0]), torch.tensor([0.3, 0.9]))
    assert torch.allclose(out, torch.tensor([0.3, 0.0]))


def test_to_unit_and_quantize():
    x = torch.tensor([-1.0, 0.0, 1.0, 2.0])
    assert torch.equal(M.to_unit(x), torch.tensor([0.0, 0.5, 1.0, 1.0]))
    q = M.quantize(torch.tensor([0.5, 0.1234]))
    assert torch.allclose(q * 255, torch.round(q * 255))


def test_masked_change_counts_only_the_mask_and_is_nan_when_empty():
    a = torch.zeros(2, 3, 4, 4)
    b = a.clone()
    b[:, :, :2] = 1.0
    mask = torch.zeros(2, 1, 4, 4)
    mask[0, :, :2] = 1  # item 0: only changed rows -> 1; item 1: empty mask -> NaN
    out = M.masked_abs_change(a, b, mask)
    assert out[0].item() == 1.0 and math.isnan(out[1].item())
    with pytest.raises(InputError, match="mask must be"):
        M.masked_abs_change(a, b, mask[:, :, :2])


def test_psnr_known_value_and_ceiling():
    a = torch.zeros(1, 3, 4, 4)
    assert M.psnr(a, a).item() == pytest.approx(100.0)
    b = a + 0.1  # mse 0.01 -> 20 dB
    assert M.psnr(a, b).item() == pytest.approx(20.0, abs=1e-4)


def test_ssim_identity_and_agreement_with_torchmetrics():
    torch.manual_seed(1)
    a = torch.rand(2, 3, 32, 32)
    b = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    assert torch.allclose(M.ssim(a, a), torch.ones(2), atol=1e-5)
    tm = pytest.importorskip("torchmetrics.functional.image")
    ref = tm.structural_similarity_index_measure(b, a, data_range=1.0, reduction="none")
    assert torch.allclose(M.ssim(a, b), ref, atol=1e-4)


def test_shape_mismatch_is_an_error_that_says_what_to_do():
    with pytest.raises(InputError, match="resize"):
        M.diff(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8))


def test_inception_score_bounds():
    k = 5
    uniform = torch.full((20, k), 1.0 / k)
    assert M.inception_score(uniform, splits=2)[0] == pytest.approx(1.0)
    confident = torch.eye(k).repeat(4, 1)  # every class equally often, each image certain
    mean, std = M.inception_score(confident, splits=2)
    assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0.0, abs=1e-6)


def test_mean_std_skips_missing_values():
    mean, std, n = M.mean_std([1.0, None, float("nan"), 3.0])
    assert (mean, n) == (2.0, 2) and std == pytest.approx(math.sqrt(2))
    assert M.mean_std([5.0]) == (5.0, 0.0, 1)
    assert M.mean_std([None])[2] == 0


def test_every_metric_is_documented():
    for name, info in M.METRICS.items():
        assert info.definition and info.range and info.better in ("higher", "lower", "none")
    assert M.metric_info("acc.head").better == "higher"
    with pytest.raises(KeyError):
        M.metric_info("nope")
