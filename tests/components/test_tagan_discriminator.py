"""TAGANDiscriminator: the log-space conformity score and its masking."""

from __future__ import annotations

import pytest
import torch

from textedit.components.discriminator.tagan import TAGANDiscriminator
from textedit.errors import InputError
from textedit.interfaces import TextEncoding


@pytest.fixture
def disc() -> TAGANDiscriminator:
    return TAGANDiscriminator(TAGANDiscriminator.example_config()).eval()


def _direct_log_score(disc, images, text, stage):
    """Π_i [Σ_l β_il f_il]^α_i computed naively in probability space."""
    hidden, _ = disc.text_lstm(text.words, text.word_mask)
    mask = text.word_mask
    mean = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    scores = torch.einsum("btk,bk->bt", hidden, mean).masked_fill(~mask, float("-inf"))
    alpha = torch.softmax(scores, 1)
    _, pooled = disc.stages[stage](images[stage])
    beta = torch.softmax(disc.layer_weights[stage](hidden), -1)
    f = torch.stack(
        [
            torch.sigmoid(torch.einsum("btk,bk->bt", c(hidden)[..., :-1], v) + c(hidden)[..., -1])
            for c, v in zip(disc.classifiers[stage], pooled)
        ],
        -1,
    )
    return torch.log(((beta * f).sum(-1) ** alpha).prod(1))


def test_conformity_matches_the_product_formula(disc):
    inputs = disc.example_inputs(batch_size=3)
    out = disc(**inputs)
    assert len(out.reality) == len(out.conformity) == 2
    for k in range(2):
        assert out.reality[k].shape == (3,)
        torch.testing.assert_close(
            out.conformity[k], _direct_log_score(disc, inputs["images"], inputs["text"], k)
        )
        assert (out.conformity[k] <= 0).all()


def test_saturated_scores_stay_finite(disc):
    inputs = disc.example_inputs()
    with torch.no_grad():
        for heads in disc.classifiers:
            for head in heads:
                head.weight.mul_(1e4)
                head.bias.fill_(-1e4)
    out = disc(**inputs)
    assert all(torch.isfinite(c).all() for c in out.conformity)
    assert all(
        (c < -100).all() for c in out.conformity
    )  # log D_c, where D_c itself underflows to 0


def test_padding_changes_nothing(disc):
    inputs = disc.example_inputs(batch_size=1)
    text = inputs["text"]
    mask = torch.zeros_like(text.word_mask)
    mask[0, :3] = True
    short = TextEncoding(text.words * mask[..., None], text.sentence, mask)
    noisy = TextEncoding(text.words + 5 * (~mask)[..., None], text.sentence, mask)
    a, b = disc(inputs["images"], short), disc(inputs["images"], noisy)
    torch.testing.assert_close(a.conformity, b.conformity)


def test_reality_only_without_text_and_clear_shape_errors(disc):
    inputs = disc.example_inputs()
    assert disc(inputs["images"]).conformity is None
    with pytest.raises(InputError, match="per stage"):
        disc(inputs["images"][:1], inputs["text"])
    with pytest.raises(InputError, match="word_dim"):
        disc(
            inputs["images"],
            TextEncoding(
                torch.zeros(2, 3, 9), torch.zeros(2, 9), torch.ones(2, 3, dtype=torch.bool)
            ),
        )


def test_gradients_reach_both_branches(disc):
    disc.train()
    inputs = disc.example_inputs()
    out = disc(**inputs)
    (sum(r.mean() for r in out.reality) + sum(c.mean() for c in out.conformity)).backward()
    assert disc.stages[0].reality.weight.grad.abs().sum() > 0
    assert disc.classifiers[1][0].weight.grad.abs().sum() > 0
    assert next(disc.text_lstm.parameters()).grad.abs().sum() > 0
