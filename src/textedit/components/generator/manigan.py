"""ManiGAN's main module: a multi-stage generator whose every stage combines text and image
features in an affine combination module (Li et al., 2020).

Shape legend: ``b`` batch, ``H`` input size, ``s_k`` the size of stage ``k``
(``s_k = H / 2^(K-1-k)`` for ``K`` stages), ``t`` words, ``d_w`` word feature width, ``d_s``
sentence feature width, ``k`` condition width, ``z`` noise width, ``c`` the stages' feature
channels (``ngf``), ``e`` the image feature width.

Follows the reference code (github.com/mrlibw/ManiGAN, ``model.py``: ``G_NET``,
``INIT_STAGE_G``, ``NEXT_STAGE_G``, ``ACM``, ``attention.py``) with these departures, each
because what the reference needs cannot be had here or is not about the method:

* **Image features.** The reference reads the input through DAMSM's frozen Inception-v3
  encoder pretrained on ImageNet (a ``17 × 17`` region grid upsampled ×3.8 to the first
  stage, and a global code). No such weights can be fetched, so a learned encoder (a 3×3 stem
  and stride-2 blocks) gives region features at the first stage's size and their pooled,
  projected mean as the global code, trained with the generator.
* **The detail correction module (DCM)**, trained after the main module with its own
  discriminator and a frozen VGG-16, is not built: the main module's last stage is the output.
* **Noise.** ``z ~ N(0, I)`` in training mode and ``z = 0`` in eval mode, and the
  conditioning augmentation uses its mean in eval mode, so an edit is deterministic (the
  reference samples both at test time).
* Per-sample GroupNorm (:func:`~textedit.layers.conv_block.make_norm`) instead of Batch- and
  InstanceNorm; the library's conditioning augmentation
  (:class:`~textedit.layers.conditioning_augmentation.ConditioningAugmentation`) instead of
  the reference's GLU form; padded words masked in the channel-wise attention too.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from textedit.components.generator.staged import StagedGenerator, StagedGeneratorConfig
from textedit.interfaces.generator import GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.glu_block import GLUBlock, GLUResidualBlock
from textedit.layers.init import dcgan_init
from textedit.layers.masked_softmax import masked_softmax
from textedit.layers.memory_format import positions, positions_product
from textedit.layers.word_attention import WordAttention
from textedit.registry.api import register_generator

__all__ = ["ManiGANGenerator", "ManiGANGeneratorConfig"]


class ManiGANGeneratorConfig(StagedGeneratorConfig):
    image_size: int = Field(256, gt=0, description="input size H, and the last stage's size")
    image_feature_dim: int = Field(
        256, gt=0, description="width e of the image's region features and global code (nef)"
    )
    acm_channels: int = Field(128, gt=0, description="hidden channels of each ACM's image branch")


class AffineCombination(nn.Module):
    """ManiGAN's ACM: ``h ⊙ W(v) + b(v)``, the image features ``v`` scaling and shifting the
    text-conditioned features ``h`` position by position.

    ``W`` and ``b`` are 3×3 convolutions of a shared 3×3 convolution of ``v`` (no activation
    between, as the reference).

    Args:
        channels: channels of ``h`` (and of ``W(v)``, ``b(v)``).
        image_channels: channels of ``v``.
        hidden: channels of the shared convolution.
    """

    def __init__(self, channels: int, image_channels: int, hidden: int):
        super().__init__()
        self.shared = nn.Conv2d(image_channels, hidden, 3, padding=1, bias=False)
        self.weight = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)
        self.bias = nn.Conv2d(hidden, channels, 3, padding=1, bias=False)

    def forward(self, h: Tensor, v: Tensor) -> Tensor:
        code = self.shared(v)
        return h * self.weight(code) + self.bias(code)


class ChannelWordAttention(nn.Module):
    """ControlGAN's channel-wise attention, as ManiGAN's ``ChannelAttention``.

    Each word is projected to one value per position of an ``s × s`` map,
    ``w'_j = W w_j ∈ R^{s²}``; channel ``i`` of the spatially attended features ``a``
    attends over the words, ``β_{ij} = softmax_j(a_i · w'_j)`` (padded words masked), and
    returns ``Σ_j β_{ij} w'_j``.

    Args:
        word_dim: ``d_w``.
        size: ``s``, the side of the maps it attends for.
    """

    def __init__(self, word_dim: int, size: int):
        super().__init__()
        self.size = size
        self.projection = nn.Linear(word_dim, size * size, bias=False)

    def forward(self, attended: Tensor, words: Tensor, word_mask: Tensor) -> Tensor:
        """``attended`` ``(b, c, s, s)``, ``words`` ``(b, t, d_w)``, ``word_mask`` ``(b, t)``
        -> ``(b, c, s, s)``."""
        projected = self.projection(words).to(attended.dtype)  # (b, t, s²)
        scores = torch.bmm(positions(attended).transpose(1, 2), projected.transpose(1, 2))  # (b, c, t)
        beta = masked_softmax(scores, word_mask[:, None, :], dim=-1)
        # in the maps' layout
        return positions_product(projected.transpose(1, 2), beta.transpose(1, 2), attended)


class _NextStage(nn.Module):
    """``NEXT_STAGE_G``: word attention (spatial and channel-wise), ACM with the image
    features, residual blocks, ×2 upsampling."""

    def __init__(self, config: ManiGANGeneratorConfig, size: int):
        super().__init__()
        c = config.base_channels
        self.spatial = WordAttention(config.word_dim, c)
        self.channel = ChannelWordAttention(config.word_dim, size)
        self.combine = AffineCombination(3 * c, c, config.acm_channels)
        self.residual = nn.Sequential(
            *(GLUResidualBlock(3 * c, config.norm) for _ in range(config.num_residual_blocks))
        )
        self.upsample = GLUBlock(3 * c, c, upsample=True, norm=config.norm)

    def forward(self, h: Tensor, image_code: Tensor, text: TextEncoding) -> tuple[Tensor, Tensor]:
        words = text.words.to(h.dtype)
        attended, gamma = self.spatial(h, words, text.word_mask)
        channel = self.channel(attended, words, text.word_mask)
        joint = self.combine(torch.cat([h, attended, channel], dim=1), image_code)
        return self.upsample(self.residual(joint)), gamma


@register_generator("manigan")
class ManiGANGenerator(StagedGenerator):
    """Draws the image again, stage by stage, from the text and the image's features.

    Image: ``v = encoder(x)`` ``(b, e, s_0, s_0)``, global code ``g = W_g mean(v)``.
    Initial stage: ``c_s`` = conditioning augmentation of the sentence, ``(b, k)``;
    ``h_0 = up(GLU(norm(W [c_s; z; g])))`` from ``4 × 4`` to ``s_0``, ``c`` channels.
    Stage ``k > 0``: spatial word attention ``a = Σ_j γ_j W_t w_j`` and channel-wise word
    attention ``a_c`` on ``h_{k-1}``; ``h_k = up(Res(ACM([h_{k-1}; a; a_c], v_{k-1})))``.
    Image features per stage: ``v_0 = GLU-block(v)``, ``v_k = up(v_{k-1})``. Every stage draws
    ``x̂_k = tanh(conv3×3(ACM(h_k, v_k)))``.

    ``aux["ca_mean"]`` and ``aux["ca_logvar"]`` (each ``(b, k)``) feed the KL term;
    ``word_attention`` is the last stage's spatial attention ``(b, t, s, s)`` over the words.
    See the module docstring for where it departs from the reference.
    """

    config_class = ManiGANGeneratorConfig
    config: ManiGANGeneratorConfig
    uses = frozenset()

    def __init__(self, config: ManiGANGeneratorConfig | dict | None = None):
        super().__init__(config)
        cfg = self.config
        c, e = cfg.base_channels, cfg.image_feature_dim
        first = self.stage_sizes[0]
        reductions = (cfg.image_size // first).bit_length() - 1
        # the image: region features at the first stage's size, widths growing to e
        widths = [min(e, max(16, e >> (reductions - j))) for j in range(reductions + 1)]
        self.stem = ConvNormAct(3, widths[0], norm=False)
        self.image_encoder = DownsamplingEncoder(widths[0], widths[1:]) if reductions else None
        self.global_code = nn.Linear(e, e)
        self.build_initial_stage(extra_dim=e)
        self.image_code = GLUBlock(e, c, norm=cfg.norm)
        self.stages = nn.ModuleList(_NextStage(cfg, size) for size in self.stage_sizes[:-1])
        self.image_up = nn.ModuleList(GLUBlock(c, c, upsample=True, norm=cfg.norm) for _ in self.stage_sizes[1:])
        self.combine = nn.ModuleList(AffineCombination(c, c, cfg.acm_channels) for _ in self.stage_sizes)
        self.to_rgb = nn.ModuleList(nn.Conv2d(c, 3, 3, padding=1, bias=False) for _ in self.stage_sizes)
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> ManiGANGeneratorConfig:
        """A 16-px, two-stage config with tiny widths."""
        return cls.config_class(
            image_size=16, num_stages=2, word_dim=6, sentence_dim=5, condition_dim=4, noise_dim=3,
            base_channels=4, image_feature_dim=8, acm_channels=4, num_residual_blocks=1,
        )

    def encode_image(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """``(b, 3, H, H)`` -> region features ``(b, e, s_0, s_0)`` and global code ``(b, e)``."""
        regions = self.stem(image)
        if self.image_encoder is not None:
            regions = self.image_encoder(regions)[-1]
        return regions, self.global_code(regions.mean(dim=(2, 3)))

    def forward(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` as ``text`` describes.

        Args:
            image: ``(b, 3, H, H)`` in ``[-1, 1]``.
            text: the description's encoding: words ``(b, t, d_w)``, their mask and the
                sentence ``(b, d_s)``.
            memory: ignored (no memory bank).
            structure: ignored.
            localizer: ignored (the generator draws the whole image).

        Returns:
            :class:`GeneratorOutput`: one ``(b, 3, s_k, s_k)`` image per stage, the last
            stage's word attention, ``aux`` with ``ca_mean`` and ``ca_logvar``.
        """
        self.check_image_and_text(image, text)
        cfg = self.config
        regions, code = self.encode_image(image)
        condition, mean, logvar = self.augmentation(text.sentence.to(regions.dtype))
        b = image.shape[0]
        noise = (
            torch.randn(b, cfg.noise_dim, device=image.device, dtype=regions.dtype)
            if self.training
            else regions.new_zeros(b, cfg.noise_dim)
        )
        h = self.initial_stage(condition, noise, code)
        v = self.image_code(regions)
        images, gamma = [], None
        for k in range(cfg.num_stages):
            if k > 0:
                h, gamma = self.stages[k - 1](h, v, text)
                v = self.image_up[k - 1](v)
            images.append(torch.tanh(self.to_rgb[k](self.combine[k](h, v))))
        return GeneratorOutput(
            images=tuple(images), word_attention=gamma, aux={"ca_mean": mean, "ca_logvar": logvar}
        )
