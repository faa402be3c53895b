"""The model contracts: what every editing (and every text-to-image) composition offers,
whatever its slots.

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

Text-to-image systems (GAN-INT-CLS, StackGAN++, AttnGAN) have no input image: they subclass the sibling
contract :class:`GeneratingModel` and implement :meth:`GeneratingModel.generate_tensors`
(a token batch and noise in, an :class:`EditOutput` out); :meth:`GeneratingModel.generate`
(descriptions checked as ``edit`` checks them, seeded noise, eval mode) is written once.
Both contracts share :class:`TextModel` (the text encoder slot, ``image_size``,
``default_recipe``, ``example_config``), so the recipes, the trainer and ``save_pretrained``
serve both; ``textedit generate`` and the text-to-image columns of ``textedit eval`` use
only :class:`GeneratingModel`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from textedit.config.base import CompositionConfig
from textedit.editing.request import prepare_edit
from textedit.editing.result import EditOutput, EditResult, GenerationResult
from textedit.editing.text import check_descriptions, description_list
from textedit.errors import CheckpointError, InputError, TextEditError
from textedit.interfaces.composition import Composition
from textedit.interfaces.text_encoder import TextEncoding, TokenBatch

__all__ = ["TextModel", "EditingModel", "GeneratingModel", "EditOutput", "GenerationResult", "SEED_LIMIT"]

#: Seeds of :meth:`GeneratingModel.generate` lie in ``[0, SEED_LIMIT)`` (a torch generator's range).
SEED_LIMIT = 2**63


class TextModel(Composition):
    """What the model contracts share: a composition that reads descriptions with its
    ``text_encoder`` slot and works at one ``image_size``, trained by a registered recipe.

    Subclasses set :attr:`config_class` (a config with an ``image_size`` field and a
    ``text_encoder`` slot) and :attr:`default_recipe`, and implement :meth:`example_config`.

    Attributes:
        default_recipe: the registry name of the recipe that trains this model when a
            training config names none.
    """

    default_recipe: ClassVar[str]

    @property
    def image_size(self) -> int:
        """The size ``H`` the model works at (its input and output size)."""
        return int(self.config.image_size)

    def tokenize(self, texts: Sequence[str]) -> TokenBatch:
        """Tokenise descriptions with the text encoder, on this model's device."""
        return self.text_encoder.tokenize(list(texts)).to(self.device)

    def encode_text(self, tokens: TokenBatch | TextEncoding) -> TextEncoding:
        """Word and sentence features of a token batch (an encoding passes through)."""
        return tokens if isinstance(tokens, TextEncoding) else self.text_encoder(tokens)

    @classmethod
    def example_config(cls) -> CompositionConfig:
        """A tiny config of this model for tests (the conformance test builds, trains,
        saves and reloads it); implement it in each model."""
        raise NotImplementedError(f"{cls.__name__} does not implement example_config")

    #: whether the model's generator reads an input image (an editing model's does, a
    #: text-to-image model's draws from noise): checked when the model is built
    generator_reads_image: ClassVar[bool]

    @classmethod
    def _check_slots(cls, config: CompositionConfig, components: Any) -> None:
        super()._check_slots(config, components)
        generator = components.get("generator")
        wanted = getattr(cls, "generator_reads_image", None)
        if generator is not None and wanted is not None and bool(generator.reads_image) != wanted:
            edits, draws = "edits an input image", "draws from text and noise alone"
            raise TextEditError(
                f"{cls.__name__} {edits if wanted else draws}, and its generator "
                f"{type(generator).__name__} {draws if wanted else edits}: fill the slot with "
                f"{'an editing' if wanted else 'a text-to-image'} system's generator "
                f"(textedit components --kind generator)"
            )
        discriminator = components.get("discriminator")
        if generator is not None and discriminator is not None:
            drawn, judged = tuple(generator.stage_sizes), tuple(discriminator.stage_sizes)
            if drawn != judged:
                raise TextEditError(
                    f"{cls.__name__}'s generator {type(generator).__name__} draws stages of sizes "
                    f"{list(drawn)} and its discriminator {type(discriminator).__name__} judges "
                    f"{list(judged)}; the recipes hand the discriminator one image per generator "
                    f"stage: fill the slot with a discriminator that judges every stage (one with a "
                    f"stage_sizes field, e.g. tagan or attngan) or a one-stage generator"
                )


class EditingModel(TextModel):
    """Base of every composition that edits an image as a description says.

    Subclasses set :attr:`config_class`, :attr:`default_recipe`, and implement
    :meth:`edit_tensors` and :meth:`example_config`.
    """

    generator_reads_image = True

    @abstractmethod
    def edit_tensors(self, images: Tensor, tokens: TokenBatch) -> EditOutput:
        """The model's edit pass: ``(b, 3, H, H)`` images in ``[-1, 1]`` on the model's
        device and their descriptions' tokens -> the edited images and the model's maps.

        Called by :meth:`edit` in eval mode without gradients; implement it in each model.
        """

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
                x = request.images.tensor.to(self.device, self.dtype, memory_format=self.memory_format)
                out = self.edit_tensors(x, request.tokens.to(self.device))
        finally:
            self.train(was_training)
        _check_output(self, out, "edit_tensors")
        return EditResult.from_output(out, request.images, request.infos)


class GeneratingModel(TextModel):
    """Base of every composition that draws an image from a description alone (text to
    image: GAN-INT-CLS, StackGAN++, AttnGAN, a plug-in's).

    Subclasses set :attr:`config_class`, :attr:`default_recipe`, and implement
    :attr:`noise_dim`, :meth:`generate_tensors` and :meth:`example_config`.
    """

    generator_reads_image = False

    @property
    @abstractmethod
    def noise_dim(self) -> int:
        """Width of the noise each image is drawn from."""

    @abstractmethod
    def generate_tensors(self, tokens: TokenBatch, noise: Tensor) -> EditOutput:
        """The model's generation pass: the descriptions' tokens and ``(b, noise_dim)``
        noise on the model's device -> one ``(b, 3, s_k, s_k)`` image per stage in
        ``[-1, 1]`` (the last at ``image_size``) and the maps the model has.

        Called by :meth:`generate` in eval mode without gradients; implement it in each model.
        """

    def draw_noise(self, seeds: Sequence[int]) -> Tensor:
        """``(b, noise_dim)`` standard normal noise, row ``i`` drawn from ``seeds[i]`` alone
        (so an image does not depend on the batch it is drawn in), on the model's device."""
        rows = [torch.randn(self.noise_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds]
        return torch.stack(rows).to(self.device, self.dtype)

    def generate(
        self,
        texts: Sequence[str] | str,
        *,
        seed: int | Sequence[int] = 0,
        num_images: int = 1,
        noise: Tensor | None = None,
        allow_unknown: bool = False,
    ) -> GenerationResult:
        """Draw images of the descriptions (eval mode, no gradients).

        Args:
            texts: one description or several.
            seed: the noise of image ``i`` is drawn from ``seed + i`` (an int), or from
                ``seed[i]`` (one seed per image): the same seed gives the same image.
            num_images: images per description (descriptions repeated in order).
            noise: ``(b, noise_dim)`` noise to draw from instead of seeds.
            allow_unknown: draw even when a description has no word the model knows.

        Returns:
            :class:`GenerationResult`: ``.fine`` ``(b, 3, H, H)``, ``.image`` (PIL),
            ``.pil_images``, ``.save()``, the descriptions as read and the seeds.

        Raises:
            InputError: an empty or too long description, one made only of unknown words,
                a ``num_images`` below 1, seeds outside ``[0, 2**63)``, or seeds or noise that
                do not match the images.
        """
        texts = description_list(texts)
        if num_images < 1:
            raise InputError(f"num_images must be at least 1, got {num_images}")
        texts = [t for t in texts for _ in range(num_images)]
        infos, tokens = check_descriptions(self.text_encoder, texts, allow_unknown)
        b = len(infos)
        seeds = list(range(int(seed), int(seed) + b)) if isinstance(seed, int) else [int(s) for s in seed]
        if len(seeds) != b:
            raise InputError(f"got {len(seeds)} seeds for {b} images; pass one seed per image, or one int")
        if seeds and not (0 <= min(seeds) and max(seeds) < SEED_LIMIT):
            raise InputError(f"seeds must lie in [0, 2**63), got {min(seeds)} .. {max(seeds)}")
        if noise is not None and tuple(noise.shape) != (b, self.noise_dim):
            raise InputError(f"noise must be ({b}, {self.noise_dim}) for {b} images, got {tuple(noise.shape)}")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                z = self.draw_noise(seeds) if noise is None else noise.to(self.device, self.dtype)
                out = self.generate_tensors(tokens.to(self.device), z)
        finally:
            self.train(was_training)
        _check_output(self, out, "generate_tensors")
        return GenerationResult.from_output(out, infos, None if noise is not None else seeds)


def _check_output(model: TextModel, out: Any, method: str) -> None:
    """An :class:`EditOutput` of finite images: NaN from a model is named where it comes
    from (a diverged training run exported, damaged weights) instead of saved as black."""
    if not isinstance(out, EditOutput):
        raise TypeError(f"{type(model).__name__}.{method} must return an EditOutput, got {type(out).__name__}")
    if bool(torch.isfinite(out.images[-1]).all()):
        return
    broken = next((n for n, p in model.named_parameters() if not bool(torch.isfinite(p).all())), None)
    if broken is not None:
        raise CheckpointError(
            f"{type(model).__name__}'s weights hold NaN or infinite values (first in {broken}), so its "
            f"images are too: the training run it was exported from diverged, or the weights are "
            f"damaged; export an earlier checkpoint of the run"
        )
    raise TextEditError(
        f"{type(model).__name__} made NaN or infinite pixels from finite weights (running in "
        f"{model.dtype}); run it in float32 (model.float()), and report it if that does not help"
    )
