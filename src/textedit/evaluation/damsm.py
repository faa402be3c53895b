"""DAMSM for the Sim metric: where evaluation finds AttnGAN's encoders and their losses.

The model is the registered composition :class:`textedit.models.damsm.DAMSM` (a
``text_encoder`` slot and an ``image_encoder`` slot, ``feature_dim`` and the γ's); the
losses live in :mod:`textedit.losses` (:func:`~textedit.losses.words_loss`,
:func:`~textedit.losses.sentence_loss`, :func:`~textedit.losses.damsm_loss`), where a
training recipe reads them too. Both are re-exported here.

**Sim** (the paper's metric) is :meth:`DAMSM.sim <textedit.models.damsm.DAMSM.sim>`: the
cosine between the image's global feature and the sentence feature of the description.
Train one with ``textedit train-damsm``; it is saved like every composition
(``model_index.json``, ``text_encoder/``, ``image_encoder/``), and ``textedit eval --damsm
DIR`` reads it with :meth:`DAMSM.from_pretrained <textedit.models.damsm.DAMSM.from_pretrained>`
(which also reads the old single-folder format).
"""

from __future__ import annotations

from textedit.losses import cosine, damsm_loss, sentence_loss, word_region_similarity, words_loss
from textedit.models.damsm import DAMSM, DAMSMConfig

__all__ = [
    "DAMSMConfig",
    "DAMSM",
    "words_loss",
    "sentence_loss",
    "damsm_loss",
    "word_region_similarity",
    "cosine",
]
