"""Generator: the image and what the text asks for in, the manipulated image out.

Shape legend: ``b`` batch, ``H``/``W`` input size, ``s_k`` the size of stage ``k``, ``t``
words, ``n`` memory slots, ``h``/``w`` the localization map size, ``c`` feature channels.

Contract: :meth:`Generator.forward` takes the input image ``(b, 3, H, W)`` in ``[-1, 1]``
with ``H = W = image_size`` and what the other slots of a composition produced (each may be
``None`` when the generator does not use it; see :attr:`Generator.uses`), and returns a
:class:`GeneratorOutput` with one image per stage, coarse to fine, each
``(b, 3, s_k, s_k)`` in ``[-1, 1]``.

A *text-to-image* generator (GAN-INT-CLS, StackGAN, AttnGAN) sets :attr:`Generator.reads_image`
to False and :attr:`Generator.noise_dim`: it is called as ``forward(None, text, noise=z)``
with ``z`` ``(b, noise_dim)`` or None (a fresh ``N(0, I)`` draw in training mode, zeros in
eval mode, so that an eval forward is deterministic); ``H`` is then the last stage's size.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from textedit.errors import InputError
from textedit.interfaces._examples import example_images, example_words, generator_for
from textedit.interfaces.component import Component
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding

__all__ = ["GeneratorOutput", "Generator", "resize_to_stages"]


@dataclass
class GeneratorOutput:
    """What a generator produces; the optional fields serve losses and explanations.

    Attributes:
        images: one ``(b, 3, s_k, s_k)`` image per stage, coarse to fine, in ``[-1, 1]``.
        localization: ``(b, 1, h, w)`` localization weights in ``[0, 1]`` (MIM-Net's TLU
            map), or None.
        memory_attention: ``(b, t, n)`` attention of each word over the memories, or None.
        word_attention: ``(b, t, h', w')`` attention of each refined position over the
            words (FIR), or None.
        decoded: for a generator that composites its output with the input, the images it
            decoded before compositing (one per stage), or None.
        aux: named tensors that only a training recipe's losses read, e.g. MIM-Net's
            ``texture_feature`` (``W_g g``) and ``localized_feature`` (the TLU-pooled image
            features, its pseudo ground truth), or a conditioning augmentation's
            ``ca_mean`` and ``ca_logvar`` (for its KL term). Editing never reads them.
    """

    images: tuple[Tensor, ...]
    localization: Tensor | None = None
    memory_attention: Tensor | None = None
    word_attention: Tensor | None = None
    decoded: tuple[Tensor, ...] | None = None
    aux: dict[str, Tensor] = field(default_factory=dict)

    @property
    def coarse(self) -> Tensor:
        """The first stage's image."""
        return self.images[0]

    @property
    def fine(self) -> Tensor:
        """The last stage's image, the final output."""
        return self.images[-1]


def resize_to_stages(image: Tensor, sizes: tuple[int, ...]) -> tuple[Tensor, ...]:
    """``(b, c, H, H)`` resized to each stage's ``(s_k, s_k)`` (bilinear, antialiased; the
    image itself where ``s_k = H``): the targets and real inputs of a multi-stage generator's
    losses, one per stage of :attr:`Generator.stage_sizes`."""
    return tuple(
        image
        if s == image.shape[-1]
        else F.interpolate(image, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        for s in sizes
    )


class Generator(Component):
    """Abstract generator; see the module docstring for the contract."""

    kind: ClassVar[str] = "generator"

    #: Which optional inputs this generator reads: a subset of
    #: ``{"memory", "structure", "localizer"}``.
    uses: ClassVar[frozenset[str]] = frozenset()

    #: False for a text-to-image generator: ``forward(None, text, noise=z)`` (module docstring).
    reads_image: ClassVar[bool] = True

    @property
    def noise_dim(self) -> int | None:
        """Width of the noise a text-to-image generator draws from, or None."""
        return None

    @property
    @abstractmethod
    def image_size(self) -> int:
        """Input resolution ``H = W``."""

    @property
    @abstractmethod
    def stage_sizes(self) -> tuple[int, ...]:
        """Output resolution of each stage, coarse to fine."""

    @property
    @abstractmethod
    def word_dim(self) -> int:
        """Width of the word features it reads."""

    @property
    def sentence_dim(self) -> int:
        """Width of the sentence feature it reads (defaults to :attr:`word_dim`)."""
        return self.word_dim

    @property
    def texture_dim(self) -> int | None:
        """Width of the memory textures it reads, or None."""
        return None

    @property
    def structure_channels(self) -> int | None:
        """Channels of the structure features it reads, or None."""
        return None

    @property
    def structure_reduction(self) -> int:
        """Image size over structure feature size."""
        return 1

    @abstractmethod
    def forward(
        self,
        image: Tensor | None,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` as ``text`` (and the memory read) describe."""

    def resolve_noise(self, noise: Tensor | None, like: Tensor) -> Tensor:
        """A text-to-image generator's noise for a batch of ``like.shape[0]`` descriptions:
        ``noise`` checked to be ``(b, noise_dim)``, or without one ``N(0, I)`` in training
        mode and zeros in eval mode; on ``like``'s device and dtype.

        Raises:
            InputError: noise of another shape.
        """
        b, width = like.shape[0], self.noise_dim
        if noise is None:
            return like.new_empty(b, width).normal_() if self.training else like.new_zeros(b, width)
        if tuple(noise.shape) != (b, width):
            raise InputError(
                f"{type(self).__name__} draws from (b, {width}) noise for {b} descriptions, "
                f"got {tuple(noise.shape)}"
            )
        return noise.to(like)

    def check_image_and_text(
        self, image: Tensor, text: TextEncoding, words: bool = True, sentence: bool = True
    ) -> None:
        """Raise :class:`~textedit.errors.InputError`, saying what to change, unless ``image``
        is ``(b, 3, H, H)`` with ``H`` = :attr:`image_size` (None for a text-to-image
        generator) and (where read) the word features are ``(b, t, word_dim)`` and the
        sentence feature ``(b, sentence_dim)``.

        Args:
            image: the input images, or None (a generator that does not read one).
            text: their descriptions' encoding.
            words: whether the generator reads ``text.words``.
            sentence: whether it reads ``text.sentence``.
        """
        size = self.image_size
        if image is None:
            if self.reads_image:
                raise InputError(f"{type(self).__name__} edits an input image; pass one, (b, 3, {size}, {size})")
            b = text.sentence.shape[0]
        elif not self.reads_image:
            raise InputError(
                f"{type(self).__name__} draws images from text alone; pass image=None"
            )
        elif image.ndim != 4 or image.shape[1:] != (3, size, size):
            raise InputError(
                f"{type(self).__name__} takes (b, 3, {size}, {size}) images, got "
                f"{tuple(image.shape)}; resize the image to {size}×{size}"
            )
        else:
            b = image.shape[0]
        if words and (text.words.ndim != 3 or text.words.shape[0] != b or text.words.shape[-1] != self.word_dim):
            raise InputError(
                f"{type(self).__name__} reads (b, t, {self.word_dim}) word features for {b} images, "
                f"got {tuple(text.words.shape)}; set generator.word_dim to the text encoder's word_dim"
            )
        if sentence and text.sentence.shape != (b, self.sentence_dim):
            raise InputError(
                f"{type(self).__name__} reads a (b, {self.sentence_dim}) sentence feature for {b} "
                f"images, got {tuple(text.sentence.shape)}; set generator.sentence_dim to the text "
                f"encoder's sentence_dim"
            )

    def example_inputs(self, batch_size: int = 2, seed: int = 0) -> dict[str, Any]:
        device = self.device
        words, mask = example_words(batch_size, 5, self.word_dim, seed)
        sentence = torch.randn(batch_size, self.sentence_dim, generator=generator_for(seed + 2))
        inputs: dict[str, Any] = {
            "image": example_images(batch_size, self.image_size, seed).to(device) if self.reads_image else None,
            "text": TextEncoding(words.to(device), sentence.to(device), mask.to(device)),
        }
        if self.noise_dim is not None:
            inputs["noise"] = torch.randn(batch_size, self.noise_dim, generator=generator_for(seed + 5)).to(device)
        if self.texture_dim is not None:
            texture = torch.randn(batch_size, 5, self.texture_dim, generator=generator_for(seed + 3))
            inputs["memory"] = MemoryRead((texture * mask[..., None]).to(device), mask.to(device))
        if self.structure_channels is not None:
            size = self.image_size // self.structure_reduction
            g = generator_for(seed + 4)
            inputs["structure"] = Structure(
                boundary=torch.rand(batch_size, 1, self.image_size, self.image_size, generator=g).to(device),
                features=torch.randn(batch_size, self.structure_channels, size, size, generator=g).to(device),
            )
        return inputs
