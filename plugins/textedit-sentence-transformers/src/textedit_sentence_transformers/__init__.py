"""A textedit text encoder backed by a sentence-transformers model.

Registered through the entry-point group ``textedit.text_encoders`` as
``sentence_transformer``; importing this package registers nothing by itself.
"""

from textedit_sentence_transformers.encoder import (
    SentenceTransformerTextEncoder,
    SentenceTransformerTextEncoderConfig,
)

__all__ = ["SentenceTransformerTextEncoder", "SentenceTransformerTextEncoderConfig"]
__version__ = "0.1.0"
