"""DAMSM (AttnGAN): a text encoder and an image encoder trained to agree, and the losses.

Shape legend: ``b`` batch, ``t`` words, ``d`` the common feature width (AttnGAN's ``nef``,
256), ``r`` image regions (17 × 17 for Inception), ``H`` image side.

* Text: the Bi-LSTM text encoder of textedit (:class:`~textedit.components.text_encoder.
  bilstm.BiLSTMTextEncoder`, 300-d embeddings, ``d / 2`` hidden units per direction as in
  AttnGAN's ``RNN_ENCODER``): word features ``(b, t, d)`` and a sentence feature ``(b, d)``.
* Image, ``"inception"`` (AttnGAN's ``CNN_ENCODER``): Inception-v3's trunk (torchvision's
  ``inception_v3(weights=None, aux_logits=False, init_weights=True)``, optionally started from
  a local ImageNet weight file and frozen, as AttnGAN does), input resized to 299 bilinear;
  region features are ``Mixed_6e`` (768 × 17 × 17) through a 1 × 1 convolution to ``d``, the
  global feature is the last average pool (2048) through a linear layer to ``d``.
* Image, ``"small_cnn"`` (our deviation for generated data on a CPU): a 5-layer CNN at
  ``image_size``; regions are its ``H/8 × H/8`` grid, the global feature its pooled last layer.
* Losses (:func:`words_loss`, :func:`sentence_loss`): AttnGAN's ``miscc/losses.py`` with
  ``γ1 = 4`` (attention sharpness), ``γ2 = 5`` (word aggregation), ``γ3 = 10`` (the
  softmax scale); vectorised over pairs, same values as the per-caption loop.

**Sim** (the paper's metric) is :meth:`DAMSM.sim`: the cosine between the image's global
feature and the sentence feature of the description. Train one with ``textedit
train-damsm``; a trained model is saved like any model (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from textedit.components.text_encoder.bilstm import BiLSTMTextEncoder
from textedit.errors import CheckpointError, InputError
from textedit.evaluation._io import load_network_weights, read_network_config, save_network
from textedit.evaluation.inception import INCEPTION_BLOCKS

__all__ = ["DAMSMConfig", "DAMSM", "words_loss", "sentence_loss", "damsm_loss", "cosine"]

TYPE_NAME = "damsm"


class DAMSMConfig(BaseModel):
    """Architecture and loss constants of a :class:`DAMSM`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: tuple[str, ...] = Field(
        ..., min_length=1, description="known words in id order (<pad>, <unk> implied)"
    )
    max_words: int = Field(18, gt=0, description="longer descriptions are truncated")
    embedding_dim: int = Field(300, gt=0, description="word embedding width (AttnGAN: 300)")
    feature_dim: int = Field(
        256,
        gt=1,
        description="common width d of word, sentence, region and global features (AttnGAN: 256); "
        "even",
    )
    dropout: float = Field(
        0.5, ge=0, lt=1, description="dropout on the word embeddings (AttnGAN: 0.5)"
    )
    image_encoder: Literal["inception", "small_cnn"] = Field(
        "inception",
        description="AttnGAN's Inception-v3 encoder, or the small CNN for generated data",
    )
    image_size: int = Field(
        64,
        ge=16,
        description="small_cnn input side (inputs are resized to it); Inception always reads 299",
    )
    width: int = Field(
        32, gt=0, description="small_cnn channels of the first layer (doubled at each downsampling)"
    )
    freeze_backbone: bool = Field(
        False,
        description="Inception: train only the two projections (AttnGAN, with ImageNet weights)",
    )
    gamma1: float = Field(4.0, gt=0, description="γ1: sharpness of the word-to-region attention")
    gamma2: float = Field(
        5.0, gt=0, description="γ2: how much the best-matching words dominate R(Q, D)"
    )
    gamma3: float = Field(
        10.0, gt=0, description="γ3: the smoothing factor of the matching softmax"
    )


class _SmallImageEncoder(nn.Module):
    def __init__(self, config: DAMSMConfig):
        super().__init__()
        w, d = config.width, config.feature_dim

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            # batch norm as in Inception: without it the pooled codes of different images
            # start nearly parallel, every cosine is ~1 and the losses sit at chance
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.LeakyReLU(0.2, inplace=True),
            )

        self.size = config.image_size
        # regions on an H/8 grid (8 x 8 at 64 px): about one region per bird part, and the
        # words loss (pairs x regions x words x d) stays affordable on a CPU
        self.local = nn.Sequential(
            block(3, w, 1), block(w, 2 * w, 2), block(2 * w, 4 * w, 2), block(4 * w, 4 * w, 2)
        )
        self.deep = nn.Sequential(block(4 * w, 8 * w, 1), block(8 * w, 8 * w, 2))
        self.emb_features = nn.Conv2d(4 * w, d, 1, bias=False)
        self.emb_cnn_code = nn.Linear(8 * w, d)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        if image.shape[-1] != self.size or image.shape[-2] != self.size:
            image = F.interpolate(
                image,
                size=(self.size, self.size),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        local = self.local(image)
        code = self.deep(local).mean((2, 3))
        return self.emb_features(local), self.emb_cnn_code(code)


class _InceptionImageEncoder(nn.Module):
    _TRUNK = INCEPTION_BLOCKS[:-3]  # up to Mixed_6e: the 17 × 17 region features
    _DEEP = INCEPTION_BLOCKS[-3:]

    def __init__(self, config: DAMSMConfig):
        super().__init__()
        from torchvision.models import inception_v3

        net = inception_v3(weights=None, aux_logits=False, init_weights=True)
        self.trunk = nn.Sequential(*(getattr(net, n) for n in self._TRUNK))
        self.deep = nn.Sequential(*(getattr(net, n) for n in self._DEEP))
        self.emb_features = nn.Conv2d(768, config.feature_dim, 1, bias=False)
        self.emb_cnn_code = nn.Linear(2048, config.feature_dim)
        for p in (self.emb_features.weight, self.emb_cnn_code.weight):
            nn.init.uniform_(p, -0.1, 0.1)  # AttnGAN's init_trainable_weights
        if config.freeze_backbone:
            for p in [*self.trunk.parameters(), *self.deep.parameters()]:
                p.requires_grad_(False)

    def load_backbone(self, path: str | Path) -> None:
        """Start the trunk from torchvision's ImageNet file (``inception_v3_google-*.pth``)."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        names = {**{n: i for i, n in enumerate(self._TRUNK)}}
        mine: dict[str, Tensor] = {}
        for key, value in state.items():
            top, _, rest = key.partition(".")
            if top in names:
                mine[f"trunk.{names[top]}.{rest}"] = value
            elif top in self._DEEP:
                mine[f"deep.{self._DEEP.index(top)}.{rest}"] = value
        own = {k for k in self.state_dict() if k.startswith(("trunk.", "deep."))}
        missing = sorted(own - set(mine))
        if missing:
            raise CheckpointError(
                f"{path} is not torchvision's Inception-v3 ImageNet file: {len(missing)} trunk "
                f"tensors missing (e.g. {missing[0]})"
            )
        self.load_state_dict(mine, strict=False)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        x = F.interpolate(image, size=(299, 299), mode="bilinear", align_corners=False)
        features = self.trunk(x)
        code = self.deep(features).mean((2, 3))
        return self.emb_features(features), self.emb_cnn_code(code)


class DAMSM(nn.Module):
    """AttnGAN's Deep Attentional Multimodal Similarity Model (see the module doc).

    Args:
        config: the architecture (or a mapping of its fields).
    """

    def __init__(self, config: DAMSMConfig | dict[str, Any]):
        super().__init__()
        self.config = config if isinstance(config, DAMSMConfig) else DAMSMConfig(**config)
        c = self.config
        if c.feature_dim % 2:
            raise InputError(f"feature_dim must be even (two LSTM directions), got {c.feature_dim}")
        self.text_encoder = BiLSTMTextEncoder(
            {
                "vocabulary": c.vocabulary,
                "max_words": c.max_words,
                "embedding_dim": c.embedding_dim,
                "hidden_dim": c.feature_dim // 2,
                "dropout": c.dropout,
            }
        )
        self.image_encoder = (
            _InceptionImageEncoder(c) if c.image_encoder == "inception" else _SmallImageEncoder(c)
        )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode_images(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """``(b, 3, H, H)`` images in ``[-1, 1]`` -> regions ``(b, d, h, w)``, global ``(b, d)``."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise InputError(
                f"DAMSM encodes (b, 3, H, W) images in [-1, 1], got {tuple(image.shape)}"
            )
        return self.image_encoder(image.float().to(self.device))

    def encode_texts(self, texts: Sequence[str]):
        """Word and sentence features (a :class:`~textedit.interfaces.text_encoder.TextEncoding`)."""
        return self.text_encoder.encode(list(texts))

    def losses(
        self, image: Tensor, texts: Sequence[str], class_ids: Tensor | None = None
    ) -> dict[str, Tensor]:
        """AttnGAN's four DAMSM losses for a batch of matching pairs (and their sum, ``loss``)."""
        regions, code = self.encode_images(image)
        text = self.encode_texts(texts)
        return damsm_loss(
            regions, code, text.words, text.sentence, text.word_mask, self.config, class_ids
        )

    @torch.no_grad()
    def sim(self, image: Tensor, texts: Sequence[str]) -> Tensor:
        """Sim: ``(b,)`` cosine between each image's global feature and its description's
        sentence feature (eval mode, no gradients)."""
        was = self.training
        self.eval()
        try:
            _, code = self.encode_images(image)
            sentence = self.encode_texts(texts).sentence
        finally:
            self.train(was)
        return cosine(code, sentence).cpu()

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` to ``directory`` (atomically)."""
        return save_network(self, self.config.model_dump(mode="json"), TYPE_NAME, directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: Any = "cpu") -> "DAMSM":
        """Load a DAMSM written by :meth:`save_pretrained` (strictly)."""
        model = cls(DAMSMConfig(**read_network_config(directory, TYPE_NAME)))
        load_network_weights(model, directory, map_location)
        return model.eval()


def cosine(a: Tensor, b: Tensor, eps: float = 1e-8) -> Tensor:
    """Cosine similarity along the last axis, the norm product clamped at ``eps`` (AttnGAN)."""
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(eps)


def _mask_classes(scores: Tensor, class_ids: Tensor | None) -> Tensor:
    if class_ids is None:
        return scores
    same = class_ids[:, None] == class_ids[None, :]
    same.fill_diagonal_(False)
    return scores.masked_fill(same.to(scores.device), float("-inf"))


def sentence_loss(
    code: Tensor, sentence: Tensor, gamma3: float = 10.0, class_ids: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """AttnGAN's ``sent_loss``: cross-entropy of ``γ3 · cos(image_i, sentence_j)`` both ways.

    Args:
        code: ``(b, d)`` global image features.
        sentence: ``(b, d)`` sentence features; pair ``i`` matches image ``i``.
        class_ids: ``(b,)`` classes; other pairs of one class are left out (AttnGAN).

    Returns:
        ``(loss0, loss1)``: images choosing their sentence, sentences choosing their image.
    """
    scores = cosine(code[:, None, :], sentence[None, :, :]) * gamma3
    scores = _mask_classes(scores, class_ids)
    labels = torch.arange(code.shape[0], device=code.device)
    return F.cross_entropy(scores, labels), F.cross_entropy(scores.t(), labels)


def word_region_similarity(
    regions: Tensor, words: Tensor, word_mask: Tensor, gamma1: float = 4.0, gamma2: float = 5.0
) -> tuple[Tensor, Tensor]:
    """``R(image j, text i)`` for every pair, AttnGAN's ``words_loss`` before scaling.

    Args:
        regions: ``(b, d, h, w)`` region features.
        words: ``(b, t, d)`` word features; ``word_mask`` ``(b, t)`` True on real words.

    Returns:
        ``(similarities, attention)``: ``(b_img, b_txt)`` log-sum-exp scores and the ``(b, t,
        h, w)`` attention of each text's words over its own image's regions.
    """
    b, d, h, w = regions.shape
    context = regions.reshape(b, d, h * w)
    # scores[j, i, r, t] = <region r of image j, word t of text i>
    scores = torch.einsum("jdr,itd->jirt", context, words)
    pad = ~word_mask[None, :, None, :]
    attn = scores.masked_fill(pad, float("-inf")).softmax(-1)  # Eq. (8): over words
    attn = (attn.transpose(2, 3) * gamma1).softmax(-1)  # Eq. (9): over regions -> (j, i, t, r)
    weighted = torch.einsum("jdr,jitr->jitd", context, attn)
    row = cosine(words[None].expand_as(weighted), weighted)  # (j, i, t)
    row = (row * gamma2).exp().masked_fill(~word_mask[None], 0.0).sum(-1)  # Eq. (10)
    idx = torch.arange(b, device=regions.device)
    return row.log(), attn[idx, idx].reshape(b, -1, h, w)


def words_loss(
    regions: Tensor,
    words: Tensor,
    word_mask: Tensor,
    gamma1: float = 4.0,
    gamma2: float = 5.0,
    gamma3: float = 10.0,
    class_ids: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """AttnGAN's ``words_loss``: cross-entropy of ``γ3 · R(image, text)`` both ways."""
    sim, _ = word_region_similarity(regions, words, word_mask, gamma1, gamma2)
    sim = _mask_classes(sim * gamma3, class_ids)
    labels = torch.arange(sim.shape[0], device=sim.device)
    return F.cross_entropy(sim, labels), F.cross_entropy(sim.t(), labels)


def damsm_loss(
    regions: Tensor,
    code: Tensor,
    words: Tensor,
    sentence: Tensor,
    word_mask: Tensor,
    config: DAMSMConfig,
    class_ids: Tensor | None = None,
) -> dict[str, Tensor]:
    """The four terms of AttnGAN's ``pretrain_DAMSM.py`` and their sum ``loss``."""
    w0, w1 = words_loss(
        regions, words, word_mask, config.gamma1, config.gamma2, config.gamma3, class_ids
    )
    s0, s1 = sentence_loss(code, sentence, config.gamma3, class_ids)
    return {"loss": w0 + w1 + s0 + s1, "w_loss0": w0, "w_loss1": w1, "s_loss0": s0, "s_loss1": s1}
