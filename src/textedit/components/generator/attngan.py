"""The text-to-image generators of AttnGAN (Xu et al., 2018) and StackGAN++ (Zhang et al.,
2018): a multi-stage generator that draws an image from a description and noise alone.

Shape legend: ``b`` batch, ``s_k`` the size of stage ``k`` (``s_k = H / 2^(K-1-k)`` for
``K`` stages and the last size ``H``), ``t`` words, ``d_w`` word feature width, ``d_s``
sentence feature width, ``k`` condition width, ``z`` noise width, ``c`` the stages' feature
channels (``ngf``).

Follows the reference code (github.com/taoxugit/AttnGAN, ``model.py``: ``G_NET``,
``INIT_STAGE_G``, ``NEXT_STAGE_G``, ``GET_IMAGE_G``, ``GlobalAttentionGeneral``; and
github.com/hanzhanggit/StackGAN-v2, ``model.py``: ``NEXT_STAGE_G``) with this library's
conventions where they are not about the method:

* Batch norm, as the references (``norm="batch"``, the default; the editing generators'
  per-image GroupNorm with ``norm="group"``): with per-image normalisation this generator
  learned to ignore its noise and its text on generated birds. In eval mode batch norm uses
  its running statistics, so a drawn image does not depend on its batch.
* The library's conditioning augmentation
  (:class:`~textedit.layers.conditioning_augmentation.ConditioningAugmentation`) instead of
  the reference's GLU form (as ManiGAN's generator here).
* **StackGAN++'s later stages** keep AttnGAN's constant width ``c`` (the reference halves
  the channels at every stage) so that both conditionings share one network: the tiled
  condition joins the features where AttnGAN's attended word context does.
* **Noise.** The generator's noise input is ``[z; ε]``, ``(b, z + k)``: the first stage's
  noise and the conditioning augmentation's sample ``c = μ + σ ⊙ ε``, so that a seed fixes
  both (the reference samples both when it draws). Without noise, both are ``N(0, I)`` in
  training mode and zero in eval mode (``c = μ``).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.components.generator.staged import StagedGenerator, StagedGeneratorConfig
from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import Norm
from textedit.layers.glu_block import GLUBlock, GLUResidualBlock
from textedit.layers.init import dcgan_init
from textedit.layers.memory_format import tile_like
from textedit.layers.word_attention import WordAttention
from textedit.registry.api import register_generator

__all__ = ["AttnGANGenerator", "AttnGANGeneratorConfig", "StackGANGenerator", "StackGANGeneratorConfig"]

class AttnGANGeneratorConfig(StagedGeneratorConfig):
    norm: Norm = Field(
        "batch",
        description="normalisation of every block: 'batch' (the references'; running statistics "
        "when drawing) or 'group' (per image)",
    )
    conditioning: Literal["words", "sentence"] = Field(
        "words",
        description="what each later stage reads: 'words' (AttnGAN: every position attends over "
        "the words) or 'sentence' (StackGAN++: the conditioning-augmented sentence, tiled)",
    )


class _NextStage(nn.Module):
    """``NEXT_STAGE_G``: the features joined with the text (attended words or the tiled
    condition), residual blocks, ×2 upsampling."""

    def __init__(self, config: AttnGANGeneratorConfig):
        super().__init__()
        c = config.base_channels
        self.conditioning = config.conditioning
        if config.conditioning == "words":
            self.attention = WordAttention(config.word_dim, c)
        else:  # StackGAN++'s jointConv
            self.joint = GLUBlock(c + config.condition_dim, 2 * c, norm=config.norm)
        self.residual = nn.Sequential(
            *(GLUResidualBlock(2 * c, config.norm) for _ in range(config.num_residual_blocks))
        )
        self.upsample = GLUBlock(2 * c, c, upsample=True, norm=config.norm)

    def forward(self, h: Tensor, text: TextEncoding, condition: Tensor) -> tuple[Tensor, Tensor | None]:
        if self.conditioning == "words":
            attended, gamma = self.attention(h, text.words.to(h.dtype), text.word_mask)
            joint = torch.cat([h, attended], dim=1)
        else:
            tiled = tile_like(condition, h)
            joint, gamma = self.joint(torch.cat([h, tiled.to(h.dtype)], dim=1)), None
        return self.upsample(self.residual(joint)), gamma


@register_generator("attngan")
class AttnGANGenerator(StagedGenerator):
    """Draws an image from a description and noise, stage by stage (AttnGAN).

    Initial stage: ``c_s`` = conditioning augmentation of the sentence, ``(b, k)``;
    ``h_0 = up(GLU(norm(W [c_s; z])))`` from ``4 × 4`` to ``s_0``, ``c`` channels. Stage
    ``k > 0``: with ``conditioning="words"`` every position of ``h_{k-1}`` attends over the
    words, ``a = Σ_j γ_j W_t w_j``, and ``h_k = up(Res([h_{k-1}; a]))`` (AttnGAN); with
    ``"sentence"``, ``h_k = up(Res(GLU-block([h_{k-1}; tile(c_s)])))`` (StackGAN++). Every
    stage draws ``x̂_k = tanh(conv3×3(h_k))``.

    ``forward(None, text, noise=[z; ε])`` (the text-to-image contract of
    :class:`~textedit.interfaces.Generator`). ``aux["ca_mean"]`` and ``aux["ca_logvar"]``
    (each ``(b, k)``) feed the KL term; ``word_attention`` is the last stage's attention
    ``(b, t, s, s)`` over the words (None with sentence conditioning or one stage).
    """

    config_class = AttnGANGeneratorConfig
    config: AttnGANGeneratorConfig
    uses = frozenset()
    reads_image = False

    def __init__(self, config: AttnGANGeneratorConfig | dict | None = None):
        super().__init__(config)
        cfg = self.config
        c = cfg.base_channels
        self.build_initial_stage()
        self.stages = nn.ModuleList(_NextStage(cfg) for _ in self.stage_sizes[1:])
        self.to_rgb = nn.ModuleList(nn.Conv2d(c, 3, 3, padding=1, bias=False) for _ in self.stage_sizes)
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> AttnGANGeneratorConfig:
        """A 16-px, two-stage config with tiny widths."""
        return cls.config_class(
            image_size=16, num_stages=2, word_dim=6, sentence_dim=5, condition_dim=4, noise_dim=3,
            base_channels=4, num_residual_blocks=1,
        )

    @property
    def noise_dim(self) -> int:
        """``z + k``: the first stage's noise and the conditioning augmentation's sample."""
        return self.config.noise_dim + self.config.condition_dim

    def forward(
        self,
        image: Tensor | None,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
        noise: Tensor | None = None,
    ) -> GeneratorOutput:
        """Draw the images ``text`` describes.

        Args:
            image: None (the generator draws from text alone).
            text: the descriptions' encoding: words ``(b, t, d_w)``, their mask and the
                sentence ``(b, d_s)``.
            memory: ignored (no memory bank).
            structure: ignored.
            localizer: ignored.
            noise: ``(b, z + k)``: ``[z; ε]``, or None (module docstring).

        Returns:
            :class:`GeneratorOutput`: one ``(b, 3, s_k, s_k)`` image per stage, the last
            stage's word attention, ``aux`` with ``ca_mean`` and ``ca_logvar``.
        """
        cfg = self.config
        self.check_image_and_text(image, text, words=cfg.conditioning == "words")
        sentence = text.sentence.to(self.initial.weight.dtype)
        z, epsilon = self.resolve_noise(noise, sentence).split([cfg.noise_dim, cfg.condition_dim], dim=1)
        condition, mean, logvar = self.augmentation(sentence, epsilon)
        h = self.initial_stage(condition, z)
        images, gamma = [], None
        for k in range(cfg.num_stages):
            if k > 0:
                h, gamma = self.stages[k - 1](h, text, condition)
            images.append(torch.tanh(self.to_rgb[k](h)))
        return GeneratorOutput(
            images=tuple(images), word_attention=gamma, aux={"ca_mean": mean, "ca_logvar": logvar}
        )


class StackGANGeneratorConfig(AttnGANGeneratorConfig):
    conditioning: Literal["words", "sentence"] = Field(
        "sentence",
        description="what each later stage reads: 'sentence' (StackGAN++: the conditioning-"
        "augmented sentence, tiled) or 'words' (AttnGAN's word attention)",
    )


@register_generator("stackgan")
class StackGANGenerator(AttnGANGenerator):
    """StackGAN++'s tree-like generator: :class:`AttnGANGenerator` with sentence
    conditioning at every stage (the network AttnGAN grew from)."""

    config_class = StackGANGeneratorConfig
    config: StackGANGeneratorConfig
