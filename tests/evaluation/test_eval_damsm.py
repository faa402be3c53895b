"""DAMSM: the losses equal AttnGAN's per-caption loop, saving, Sim, and resumable training."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from torch import nn

from textedit.errors import CheckpointError, InputError
from textedit.evaluation.damsm import (
    DAMSM,
    DAMSMConfig,
    sentence_loss,
    word_region_similarity,
    words_loss,
)
from textedit.training.interrupt import TrainingInterrupted

G1, G2, G3 = 4.0, 5.0, 10.0


def _attngan_func_attention(query, context, gamma1):
    # AttnGAN GlobalAttention.func_attention: query (b, d, t), context (b, d, h, w)
    b, t = query.size(0), query.size(2)
    ih, iw = context.size(2), context.size(3)
    s = ih * iw
    context = context.view(b, -1, s)
    attn = torch.bmm(torch.transpose(context, 1, 2).contiguous(), query)
    attn = nn.Softmax(dim=1)(attn.view(b * s, t)).view(b, s, t)
    attn = torch.transpose(attn, 1, 2).contiguous().view(b * t, s)
    attn = nn.Softmax(dim=1)(attn * gamma1).view(b, t, s)
    return torch.bmm(context, torch.transpose(attn, 1, 2).contiguous()), attn.view(b, -1, ih, iw)


def _cos(x1, x2, eps=1e-8):
    return (
        torch.sum(x1 * x2, 1) / (torch.norm(x1, 2, 1) * torch.norm(x2, 2, 1)).clamp(min=eps)
    ).squeeze()


def _attngan_words_loss(img_features, words_emb, cap_lens):
    # AttnGAN miscc/losses.words_loss without class masks; words_emb (b, d, t)
    batch = img_features.shape[0]
    sims = []
    for i in range(batch):
        n = int(cap_lens[i])
        word = words_emb[i, :, :n].unsqueeze(0).contiguous().repeat(batch, 1, 1)
        wei, _ = _attngan_func_attention(word, img_features, G1)
        word = word.transpose(1, 2).contiguous().view(batch * n, -1)
        wei = wei.transpose(1, 2).contiguous().view(batch * n, -1)
        row = _cos(word, wei).view(batch, n)
        sims.append(torch.log(row.mul(G2).exp().sum(dim=1, keepdim=True)))
    sims = torch.cat(sims, 1) * G3
    labels = torch.arange(batch)
    return nn.CrossEntropyLoss()(sims, labels), nn.CrossEntropyLoss()(sims.transpose(0, 1), labels)


def _attngan_sent_loss(cnn_code, rnn_code):
    cnn_code, rnn_code = cnn_code.unsqueeze(0), rnn_code.unsqueeze(0)
    scores = torch.bmm(cnn_code, rnn_code.transpose(1, 2))
    norm = torch.bmm(
        torch.norm(cnn_code, 2, dim=2, keepdim=True),
        torch.norm(rnn_code, 2, dim=2, keepdim=True).transpose(1, 2),
    )
    scores = (scores / norm.clamp(min=1e-8) * G3).squeeze()
    labels = torch.arange(scores.shape[0])
    return nn.CrossEntropyLoss()(scores, labels), nn.CrossEntropyLoss()(
        scores.transpose(0, 1), labels
    )


def test_losses_live_in_the_shared_losses_module():
    import textedit.losses as shared

    assert words_loss is shared.words_loss and sentence_loss is shared.sentence_loss


def test_losses_equal_attngan_loops():
    g = torch.Generator().manual_seed(0)
    b, d, t = 5, 8, 6
    regions = torch.randn(b, d, 3, 4, generator=g, dtype=torch.float64)
    lengths = torch.tensor([6, 3, 1, 4, 6])
    mask = torch.arange(t)[None] < lengths[:, None]
    words = torch.randn(b, t, d, generator=g, dtype=torch.float64) * mask[..., None]
    ours = words_loss(regions, words, mask, G1, G2, G3)
    ref = _attngan_words_loss(regions, words.transpose(1, 2), lengths)
    assert torch.allclose(ours[0], ref[0]) and torch.allclose(ours[1], ref[1])
    code, sentence = torch.randn(b, d, generator=g, dtype=torch.float64), torch.randn(
        b, d, generator=g, dtype=torch.float64
    )
    s_ours, s_ref = sentence_loss(code, sentence, G3), _attngan_sent_loss(code, sentence)
    assert torch.allclose(s_ours[0], s_ref[0]) and torch.allclose(s_ours[1], s_ref[1])
    _, attn = word_region_similarity(regions, words, mask, G1, G2)
    assert attn.shape == (b, t, 3, 4) and torch.allclose(
        attn.sum((2, 3)), torch.ones(b, t, dtype=torch.float64)
    )


def test_class_ids_leave_same_class_pairs_out():
    g = torch.Generator().manual_seed(1)
    code, sentence = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    plain = sentence_loss(code, sentence)[0]
    masked = sentence_loss(code, sentence, class_ids=torch.tensor([0, 0, 1, 2]))[0]
    assert masked < plain  # a rival of the same class no longer competes


TINY_WORDS = ("a", "bird", "red", "blue", "head", "wings")
TINY = {
    "text_encoder": {"type": "bilstm", "vocabulary": TINY_WORDS, "embedding_dim": 8, "dropout": 0.5},
    "image_encoder": {"type": "small_cnn", "image_size": 16, "width": 4},
    "feature_dim": 8,
}
#: the same DAMSM in the flat config of the old single-folder format
TINY_LEGACY = {
    "vocabulary": TINY_WORDS,
    "embedding_dim": 8,
    "feature_dim": 8,
    "image_encoder": "small_cnn",
    "image_size": 16,
    "width": 4,
}


def test_gammas_default_to_attngan_and_widths_are_wired():
    c = DAMSMConfig(**TINY)
    assert (c.gamma1, c.gamma2, c.gamma3) == (4.0, 5.0, 10.0)
    model = DAMSM(c)
    assert model.text_encoder.word_dim == model.image_encoder.feature_dim == 8
    assert model.text_encoder.config.dropout == 0.5 and model.image_size == 16


def test_is_a_registered_composition_not_an_editing_model():
    import textedit
    from textedit.interfaces import Composition, EditingModel

    assert textedit.registry.get_registry("model").get("damsm") is DAMSM
    assert issubclass(DAMSM, Composition) and not issubclass(DAMSM, EditingModel)
    with pytest.raises(Exception, match="feature_dim"):
        DAMSM({**TINY, "feature_dim": 7})


def test_save_load_and_sim(tmp_path):
    import textedit

    model = DAMSM(TINY).eval()
    images = torch.rand(3, 3, 16, 16) * 2 - 1
    texts = ["a red bird", "a blue bird", "red wings"]
    sim = model.sim(images, texts)
    assert sim.shape == (3,) and bool(((sim >= -1) & (sim <= 1)).all())
    model.save_pretrained(tmp_path / "d")
    assert (tmp_path / "d" / "model_index.json").is_file()
    assert (tmp_path / "d" / "image_encoder" / "config.json").is_file()
    back = DAMSM.from_pretrained(tmp_path / "d")
    assert not back.training and torch.allclose(back.sim(images, texts), sim)
    again = textedit.load(tmp_path / "d")
    assert isinstance(again, DAMSM) and torch.allclose(again.sim(images, texts), sim)
    losses = model.train().losses(images, texts)
    assert set(losses) == {"loss", "w_loss0", "w_loss1", "s_loss0", "s_loss1"}
    losses["loss"].backward()
    with pytest.raises(InputError, match=r"\(b, 3, H, W\)"):
        model.encode_images(torch.zeros(3, 16, 16))


def test_old_single_folder_format_is_read(tmp_path):
    """A folder written before DAMSM was a composition (config.json + model.safetensors,
    the same tensor names) loads, with a warning to save it again."""
    import json

    from safetensors.torch import save_model

    import textedit

    model = DAMSM(TINY).eval()
    old = tmp_path / "old"
    old.mkdir()
    config = {"type": "damsm", **TINY_LEGACY, "_textedit": {"format": 1, "textedit_version": "0.2.0"}}
    (old / "config.json").write_text(json.dumps(config))
    save_model(model, str(old / "model.safetensors"))
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    with pytest.warns(FutureWarning, match="save it again|Save it again"):
        back = DAMSM.from_pretrained(old)
    assert back.config == model.config
    assert torch.equal(back.sim(images, ["a red bird", "wings"]), model.sim(images, ["a red bird", "wings"]))
    with pytest.warns(FutureWarning):
        assert isinstance(textedit.load(old), DAMSM)
    (old / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="train-damsm"):
        DAMSM.from_pretrained(old)


def test_inception_image_encoder_shapes():
    model = DAMSM(
        {**TINY, "image_encoder": {"type": "inception", "freeze_backbone": True}}
    ).eval()
    encoded = model.encode_images(torch.zeros(1, 3, 32, 32))
    assert encoded.regions.shape == (1, 8, 17, 17) and encoded.global_feature.shape == (1, 8)
    assert model.image_encoder.region_size == 17 and model.image_size == 299
    trainable = {n for n, p in model.image_encoder.named_parameters() if p.requires_grad}
    assert trainable == {"emb_features.weight", "emb_cnn_code.weight", "emb_cnn_code.bias"}


def test_inception_backbone_file_errors_are_clear(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        DAMSM({**TINY, "image_encoder": {"type": "inception", "backbone_weights": str(tmp_path / "no.pth")}})
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not torchvision's Inception-v3"):
        DAMSM({**TINY, "image_encoder": {"type": "inception", "backbone_weights": str(tmp_path / "other.pth")}})


def test_training_resumes_exactly_after_ctrl_c(tmp_path, monkeypatch):
    from textedit.evaluation.damsm_train import train_damsm

    common = dict(
        data_n=40,
        image_size=16,
        feature_dim=8,
        embedding_dim=8,
        width=4,
        batch_size=4,
        checkpoint_every=2,
        eval_images=6,
        progress=False,
        log=lambda s: None,
    )
    full = train_damsm(tmp_path / "a", steps=6, **common)
    train_damsm(tmp_path / "b", steps=2, **common)
    # Ctrl-C in the 3rd step: it ends, is checkpointed (off the every-2 grid) and the run stops
    losses, calls = DAMSM.losses, []

    def interrupted_in_the_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return losses(self, *args, **kwargs)

    monkeypatch.setattr(DAMSM, "losses", interrupted_in_the_third)
    with pytest.raises(TrainingInterrupted) as info:
        train_damsm(tmp_path / "b", steps=6, resume=True, **common)
    assert info.value.step == 3 and (tmp_path / "b" / "checkpoints" / "step_00000003.pt").is_file()
    monkeypatch.setattr(DAMSM, "losses", losses)
    resumed = train_damsm(tmp_path / "b", resume=True, **common)
    a = DAMSM.from_pretrained(tmp_path / "a" / "model").state_dict()
    b = DAMSM.from_pretrained(tmp_path / "b" / "model").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full["held_out"] == resumed["held_out"]
    assert len(list((tmp_path / "b" / "checkpoints").glob("step_*.pt"))) == 2  # keep_checkpoints
    assert {"gap", "edit_gap", "match_wins"} <= set(full["held_out"])
    with pytest.raises(Exception, match="already holds"):
        train_damsm(tmp_path / "a", steps=4, **common)


def test_a_resumed_run_keeps_its_settings_and_numbers_are_checked(tmp_path):
    from textedit.evaluation.damsm_train import train_damsm

    common = dict(data_n=40, image_size=16, feature_dim=8, embedding_dim=8, width=4, eval_images=3,
                  progress=False, log=lambda s: None)
    train_damsm(tmp_path / "a", steps=2, batch_size=4, **common)
    with pytest.raises(InputError, match=r"trained with batch_size=4, not 8; .*leave --batch-size out"):
        train_damsm(tmp_path / "a", steps=4, batch_size=8, resume=True, **common)
    with pytest.raises(InputError, match=r"at step 2; --steps 1 is behind it"):
        train_damsm(tmp_path / "a", steps=1, batch_size=4, resume=True, **common)
    with pytest.raises(InputError, match=r"trained with batch_size=4, not 32"):  # the default, given: not ignored
        train_damsm(tmp_path / "a", batch_size=32, resume=True, **common)
    # options left out take the run's own (batch 4, 2 steps: nothing more to train)
    summary = train_damsm(tmp_path / "a", resume=True, **common)
    assert summary["settings"]["batch_size"] == 4 and summary["settings"]["steps"] == 2
    # the model's options and the held-out count too: left out, the run's own; changed, refused
    model_options = {k: common[k] for k in ("feature_dim", "embedding_dim", "width")}
    summary = train_damsm(tmp_path / "a", resume=True, data_n=40, image_size=16, progress=False, log=lambda s: None)
    assert summary["held_out"]["images"] == 3 and summary["settings"]["eval_images"] == 3
    assert {k: summary["settings"][k] for k in model_options} == model_options
    with pytest.raises(InputError, match=r"trained with width=4, not 6; .*leave --width out"):
        train_damsm(tmp_path / "a", resume=True, **{**common, "width": 6})
    for bad, message in (
        (dict(steps=0), "--steps must be at least 1"),
        (dict(batch_size=1), "--batch-size must be at least 2"),
        (dict(checkpoint_every=0), "--checkpoint-every must be at least 1"),
        (dict(eval_images=0), "--eval-images must be at least 1"),
        (dict(lr=float("nan")), "--lr must be a positive number"),
        (dict(seed=-1), "--seed and --data-seed must be at least 0"),
        (dict(batch_size=400), "--batch-size 400 is larger than the 36 training images"),
    ):
        with pytest.raises(InputError, match=message):
            train_damsm(tmp_path / "b", **{**common, **bad})
    assert not (tmp_path / "b").exists(), "a refused run writes nothing"
