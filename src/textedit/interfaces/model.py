"""The model contract: what every editing composition offers, whatever its slots.

Shape legend: ``b`` batch, ``H`` the model's input size (``image_size``).

A model (MIM-Net, TAGAN, SISGAN, a plug-in's) is a :class:`~textedit.Composition` of
registered components that also subclasses :class:`EditingModel` and implements one method,
:meth:`EditingModel.edit_tensors`: checked ``(b, 3, H, H)`` images and a token batch in,
an :class:`EditOutput` out. Everything else is written once here and used by everything
that edits: :meth:`EditingModel.edit` (paths, PIL images or tensors; descriptions checked
for unknown words and length; eval mode without gradients), ``save_pretrained`` /
``from_pretrained``, :meth:`EditingModel.example_config` for tests, and
:attr:`EditingModel.default_recipe`, the registered training recipe that trains it.
``textedit edit``, ``textedit serve``, ``textedit eval`` and the trainer's sample grids use
only this contract.

Text-to-image systems (GAN-INT-CLS, StackGAN, AttnGAN) have no input image; they would be a
sibling contract with ``generate(texts) -> EditOutput`` written once the same way (see
``docs/concepts/design.md``), sharing the slots, the recipes and the trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.config.base import CompositionConfig
from textedit.editing.request import prepare_edit
from textedit.editing.result import EditOutput, EditResult
from textedit.interfaces.composition import Composition
from textedit.interfaces.text_encoder import TextEncoding, TokenBatch

__all__ = ["EditingModel", "EditOutput"]


class EditingModel(Composition):
    """Base of every composition that edits an image as a description says.

    Subclasses set :attr:`config_class` (a config with an ``image_size`` field and a
    ``text_encoder`` slot), :attr:`default_recipe`, and implement :meth:`edit_tensors` and
    :meth:`example_config`.

    Attributes:
        default_recipe: the registry name of the recipe that trains this model when a
            training config names none.
    """

    default_recipe: ClassVar[str]

    @property
    def image_size(self) -> int:
        """Input size ``H`` (images of any size are brought to it by :meth:`edit`)."""
        return int(self.config.image_size)

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Tokenise descriptions with the text encoder, on this model's device."""
        return self.text_encoder.tokenize(list(texts)).to(self.device)

    def encode_text(self, tokens: TokenBatch | TextEncoding) -> TextEncoding:
        """Word and sentence features of a token batch (an encoding passes through)."""
        return tokens if isinstance(tokens, TextEncoding) else self.text_encoder(tokens)

    def edit_tensors(self, images: Tensor, tokens: TokenBatch) -> EditOutput:
        """The model's edit pass: ``(b, 3, H, H)`` images in ``[-1, 1]`` on the model's
        device and their descriptions' tokens -> the edited images and the model's maps.

        Called by :meth:`edit` in eval mode without gradients; implement it in each model.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement edit_tensors")

    @classmethod
    def example_config(cls) -> CompositionConfig:
        """A tiny config of this model for tests (the conformance test builds, trains,
        saves and reloads it); implement it in each model."""
        raise NotImplementedError(f"{cls.__name__} does not implement example_config")

    def edit(
        self, image: Any, texts: Sequence[str] | str, *, allow_unknown: bool = False
    ) -> EditResult:
        """Edit images as the descriptions say (eval mode, no gradients).

        Args:
            image: a path, a PIL image, a list of them (any size, mode or aspect: the size
                policy of :mod:`textedit.editing.inputs` brings them to ``image_size``), or
                a ``(b, 3, H, H)`` tensor in ``[-1, 1]`` with ``H = image_size``.
            texts: one description per image, one for all images, or several for one image.
            allow_unknown: edit even when a description has no word the model knows.

        Returns:
            :class:`~textedit.editing.EditResult`: ``.image`` (PIL) and ``.fine``
            (``(b, 3, H, H)``) are the result; the maps the model has (``.localization``,
            ``.boundary``, ``.word_attention``, ...), ``.words``, ``.explain()``, ``.save()``.

        Raises:
            InputError: an unreadable image, a tensor of the wrong shape or range, an empty
                or too long description, one made only of unknown words, or counts of
                images and descriptions that do not pair up.
        """
        request = prepare_edit(self, image, texts, allow_unknown=allow_unknown)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                x = request.images.tensor.to(self.device)
                out = self.edit_tensors(x, request.tokens.to(self.device))
        finally:
            self.train(was_training)
        if not isinstance(out, EditOutput):
            raise TypeError(
                f"{type(self).__name__}.edit_tensors must return an EditOutput, got {type(out).__name__}"
            )
        return EditResult.from_output(out, request.images, request.infos)
