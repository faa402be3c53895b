"""What an edit returns: the edited images and everything that explains them.

Shape legend: ``b`` edits, ``s`` model resolution, ``s_k`` stage sizes, ``t`` tokens,
``n`` memory slots, ``h``/``w`` map sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image
from torch import Tensor

from textedit.data.images import tensor_to_pil
from textedit.editing.composite import composite_onto_original
from textedit.editing.explain import Explanation, explanation_figure
from textedit.editing.inputs import PreparedImages
from textedit.editing.text import DescriptionInfo
from textedit.errors import InputError
from textedit.utils.atomic import atomic_save

__all__ = ["EditOutput", "EditResult", "GenerationResult"]


@dataclass
class EditOutput:
    """What a model's edit pass returns (the :class:`~textedit.interfaces.EditingModel`
    contract): the edited images and the explanation maps the model has.

    Attributes:
        images: one ``(b, 3, s_k, s_k)`` image per stage, coarse to fine, in ``[-1, 1]``;
            the last is the result at the model's size ``s``.
        localization: ``(b, 1, h, w)`` where the edit applies (the edit map), in ``[0, 1]``,
            or None.
        word_attention: ``(b, t, h', w')`` attention of each output position over the
            words, or None.
        memory_attention: ``(b, t, n)`` attention of each word over memory slots, or None.
        boundary: ``(b, 1, s, s)`` the boundary map the model kept, in ``[0, 1]``, or None.
    """

    images: tuple[Tensor, ...]
    localization: Tensor | None = None
    word_attention: Tensor | None = None
    memory_attention: Tensor | None = None
    boundary: Tensor | None = None

    @property
    def coarse(self) -> Tensor:
        """The first stage's image."""
        return self.images[0]

    @property
    def fine(self) -> Tensor:
        """The last stage's image, the result."""
        return self.images[-1]

    def __len__(self) -> int:
        return self.fine.shape[0]

    @property
    def image(self) -> Image.Image:
        """The (first) result as a PIL image, at the model's resolution."""
        return tensor_to_pil(self.fine[0])

    @property
    def pil_images(self) -> list[Image.Image]:
        """Every result as a PIL image, at the model's resolution."""
        return [tensor_to_pil(x) for x in self.fine]


@dataclass
class EditResult(EditOutput):
    """The result of ``model.edit``: an :class:`EditOutput` plus what explains it.

    Inherited (tensors, batched): ``images`` (one ``(b, 3, s_k, s_k)`` per stage, coarse to
    fine), ``coarse``, ``fine`` (``(b, 3, s, s)``, the result), and the maps the model has
    (None otherwise): ``localization`` (``(b, 1, h, w)`` in ``[0, 1]``), ``word_attention``
    (``(b, t, h', w')``), ``memory_attention`` (``(b, t, n)``), ``boundary``
    (``(b, 1, s, s)``).

    Attributes:
        inputs: ``(b, 3, s, s)`` the images as the model saw them (after the size policy).
        texts: the ``b`` descriptions (normalised).
        words: per edit, the tokens the model read.
        unknown_words: per edit, the tokens it does not know.
        truncated: per edit, whether the description was cut.
        sources: per edit, the input's path (or ``"<PIL image>"`` / ``"<tensor>"``).
        originals: per edit, the RGB original (None for tensor inputs).
        boxes: per edit, the centre square ``(left, top, side)`` of the original the model saw.

    ``result.image`` is the first result as a PIL image, ``result.pil_images`` all of them;
    ``save``, ``explain`` and ``at_original_size`` take the edit's ``index``.
    """

    inputs: Tensor | None = None
    texts: tuple[str, ...] = ()
    words: list[tuple[str, ...]] = field(default_factory=list)
    unknown_words: list[tuple[str, ...]] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    originals: list[Image.Image | None] = field(default_factory=list, repr=False)
    boxes: list[tuple[int, int, int] | None] = field(default_factory=list)

    @classmethod
    def from_output(
        cls,
        output: EditOutput,
        prepared: PreparedImages,
        infos: list[DescriptionInfo],
    ) -> EditResult:
        """Wrap a model's edit output with the inputs and descriptions that produced it
        (tensors stay on the model's device)."""
        return cls(
            images=tuple(output.images),
            localization=output.localization,
            word_attention=output.word_attention,
            memory_attention=output.memory_attention,
            boundary=output.boundary,
            inputs=prepared.tensor,
            texts=tuple(i.text for i in infos),
            words=[i.words for i in infos],
            unknown_words=[i.unknown_words for i in infos],
            truncated=[i.truncated for i in infos],
            sources=list(prepared.sources),
            originals=list(prepared.originals),
            boxes=list(prepared.boxes),
        )

    def _check(self, index: int) -> int:
        if not -len(self) <= index < len(self):
            raise IndexError(f"edit {index} out of range: this result holds {len(self)} edits")
        return index % len(self)

    def at_original_size(
        self, index: int = 0, mode: Literal["difference", "mask"] = "difference"
    ) -> Image.Image:
        """Edit ``index`` composited onto its original at the original size (see
        :mod:`textedit.editing.composite`); pixels outside the square the model saw are
        the original's."""
        i = self._check(index)
        original, box = (
            self.originals[i] if self.originals else None,
            self.boxes[i] if self.boxes else None,
        )
        if original is None or box is None or self.inputs is None:
            raise InputError(
                "this edit started from a tensor, so there is no original to go back to; "
                "pass a path or a PIL image to model.edit to keep the original size"
            )
        loc = self.localization[i] if self.localization is not None else None
        return composite_onto_original(original, box, self.inputs[i], self.fine[i], loc, mode)

    def explanation(self, index: int = 0) -> Explanation:
        """The tensors of edit ``index`` (unbatched) for :func:`explanation_figure`."""
        i = self._check(index)
        pick = lambda t: None if t is None else t[i]
        return Explanation(
            text=self.texts[i] if self.texts else "",
            input=self.inputs[i] if self.inputs is not None else self.fine[i],
            fine=self.fine[i],
            coarse=self.coarse[i] if len(self.images) > 1 else None,
            boundary=pick(self.boundary),
            localization=pick(self.localization),
            word_attention=pick(self.word_attention),
            words=self.words[i] if self.words else (),
            unknown_words=self.unknown_words[i] if self.unknown_words else (),
            truncated=bool(self.truncated[i]) if self.truncated else False,
            source=self.sources[i] if self.sources and not self.sources[i].startswith("<") else "",
        )

    def explain(self, index: int = 0) -> Image.Image:
        """The explanation figure of edit ``index``: input, boundary map, edit map, coarse,
        fine and the attention of each word (see :mod:`textedit.editing.explain`)."""
        return explanation_figure(self.explanation(index))

    def save(
        self,
        path: str | os.PathLike[str],
        index: int = 0,
        keep_size: bool = False,
        mode: Literal["difference", "mask"] = "difference",
        overwrite: bool = True,
    ) -> Path:
        """Write edit ``index`` to ``path`` atomically (format from the suffix; PNG if none).

        Args:
            keep_size: write it at the original's size (:meth:`at_original_size`).
            mode: how to composite when ``keep_size``.
            overwrite: replace an existing file (else raise ``FileExistsError``).
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        picture = (
            self.at_original_size(index, mode)
            if keep_size
            else tensor_to_pil(self.fine[self._check(index)])
        )
        save_image(picture, path)
        return path


@dataclass
class GenerationResult(EditOutput):
    """The result of ``model.generate`` (a :class:`~textedit.interfaces.GeneratingModel`):
    the drawn images and what the model read.

    Inherited (tensors, batched): ``images`` (one ``(b, 3, s_k, s_k)`` per stage, coarse to
    fine), ``coarse``, ``fine`` (``(b, 3, s, s)``, the result) and ``word_attention``
    (``(b, t, h', w')`` or None).

    Attributes:
        texts: the ``b`` descriptions (normalised).
        words: per image, the tokens the model read.
        unknown_words: per image, the tokens it does not know.
        truncated: per image, whether the description was cut.
        seeds: per image, the seed its noise was drawn from (empty when noise was given).

    ``result.image`` is the first image as a PIL image, ``result.pil_images`` all of them;
    ``save`` takes the image's ``index``.
    """

    texts: tuple[str, ...] = ()
    words: list[tuple[str, ...]] = field(default_factory=list)
    unknown_words: list[tuple[str, ...]] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    @classmethod
    def from_output(
        cls, output: EditOutput, infos: list[DescriptionInfo], seeds: list[int] | None
    ) -> GenerationResult:
        """Wrap a model's generation output with the descriptions and seeds that produced it."""
        return cls(
            images=tuple(output.images),
            word_attention=output.word_attention,
            texts=tuple(i.text for i in infos),
            words=[i.words for i in infos],
            unknown_words=[i.unknown_words for i in infos],
            truncated=[i.truncated for i in infos],
            seeds=list(seeds or []),
        )

    def save(self, path: str | os.PathLike[str], index: int = 0, overwrite: bool = True) -> Path:
        """Write image ``index`` to ``path`` atomically (format from the suffix; PNG if none).

        Args:
            overwrite: replace an existing file (else raise ``FileExistsError``).
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f"image {index} out of range: this result holds {len(self)} images")
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        save_image(tensor_to_pil(self.fine[index]), path)
        return path


def save_image(picture: Image.Image, path: Path) -> None:
    """Write ``picture`` atomically; the format follows the suffix (PNG when there is none).

    Raises:
        InputError: ``path`` is a folder.
    """
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name, e.g. {path / 'edit.png'}")
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    atomic_save(path, lambda tmp: picture.save(tmp, format=fmt))
