"""MIM-Net's generator: Initial Coarse Manipulation + Fine-grain Image Refinement.

Shape legend: ``b`` batch, ``H`` input size, ``h`` ICM feature size, ``h' = H / 2`` the
size of the upsampled features ``U`` and of the coarse image, ``t`` words, ``d`` texture
width, ``c`` feature channels.
"""

from __future__ import annotations

from typing import Literal

import math

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.errors import InputError
from textedit.interfaces.generator import Generator, GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.memory_format import tile_like
from textedit.layers.residual_block import ResidualBlock
from textedit.layers.upsample_block import UpsampleBlock
from textedit.layers.word_attention import WordAttention
from textedit.registry.api import register_generator

__all__ = ["MIMNetGenerator", "MIMNetGeneratorConfig"]


def _is_power_of_two(n: int) -> bool:
    return n > 0 and not n & (n - 1)


class MIMNetGeneratorConfig(ComponentConfig):
    image_size: int = Field(
        128, gt=0, description="input size H (a power of two); stages are H/2 and H"
    )
    feature_size: int = Field(
        16, gt=0, description="size h of the ICM feature maps (a power of two, at most H/2)"
    )
    channels: int = Field(128, gt=0, description="channels c of the ICM features C, F_x and W_g g")
    base_channels: int = Field(
        16,
        gt=0,
        description="channels at full resolution; a level of size s has "
        "min(channels, base_channels·H/s) channels",
    )
    word_dim: int = Field(
        256,
        gt=0,
        description="width of the text encoder's word features (checked only: "
        "MIM-Net reads the text through the memory bank)",
    )
    sentence_dim: int | None = Field(
        None, gt=0, description="width of the sentence feature it accepts; None: word_dim"
    )
    texture_dim: int = Field(128, gt=0, description="width d of the memory textures")
    structure_channels: int = Field(32, gt=0, description="channels of the structure features F_b")
    # ---- options beyond the paper (defaults: the paper's generator); see docs/mimnet.md
    skip_connections: bool = Field(
        False,
        description="U-Net skip paths: the image encoder's features at every size between "
        "h and H/2, and the input image at H, join the decoder at their size (the paper "
        "decodes from the fused h×h features alone, which cannot reproduce the input's detail)",
    )
    word_attention: Literal["fine", "every_level"] = Field(
        "fine",
        description="where positions attend over the word textures: 'fine' only on U at H/2 "
        "(the paper's FIR); 'every_level' also on F_x before the coarse block (so C is no "
        "longer the same everywhere) and at every upsampling size",
    )
    attention_keys: Literal["texture", "word_and_texture"] = Field(
        "texture",
        description="what that attention reads: the projected textures W_t t_j as keys and "
        "values (the paper), or the contextual word features e_j beside the textures (keys "
        "W_k [e_j; t_j], values W_t t_j + W_v e_j), so a position can find the word that "
        "names its part and read it even while the memory read is still uninformative",
    )
    output: Literal["image", "composite"] = Field(
        "image",
        description="'image': each stage decodes an image (the paper); 'composite': each "
        "stage decodes a change Δ of the input, rgb = tanh(atanh(x) + Δ), and an edit-mask "
        "logit added to the upsampled TLU logit, and outputs α ⊙ rgb + (1 − α) ⊙ x: what the "
        "mask leaves closed is the input exactly, and the generator starts as the identity",
    )
    pattern_input: Literal["none", "fourier", "noise"] = Field(
        "none",
        description="an input that lets the full-size decoder place a periodic pattern "
        "(stripes, spots), added to its features through a 1×1 convolution that starts at "
        "zero: 'fourier' — sine and cosine waves of the pixel's image coordinates at "
        "pattern_frequencies in 4 orientations; 'noise' — 8 channels of Gaussian noise per "
        "pixel, fresh in training and one fixed draw in eval (edits stay deterministic). "
        "Without one, a plain part's interior looks the same to the decoder at every pixel, "
        "so it has nothing to lay a stripe's period by",
    )
    pattern_frequencies: list[float] | None = Field(
        None,
        min_length=1,
        description="'fourier' wave frequencies in cycles per image side; None: steps of √2 "
        "from 2 to H/4 (a period of 4 pixels)",
    )

    @model_validator(mode="after")
    def _check_sizes(self) -> "MIMNetGeneratorConfig":
        if not (_is_power_of_two(self.image_size) and _is_power_of_two(self.feature_size)):
            raise ValueError(
                f"image_size ({self.image_size}) and feature_size ({self.feature_size}) must be powers of two"
            )
        if not 2 <= self.feature_size <= self.image_size // 2:
            raise ValueError(
                f"feature_size must lie in [2, image_size / 2 = {self.image_size // 2}], "
                f"got {self.feature_size}"
            )
        if self.pattern_frequencies is not None:
            if self.pattern_input != "fourier":
                raise ValueError("pattern_frequencies applies to pattern_input: fourier only")
            nyquist = self.image_size / 2
            bad = [f for f in self.pattern_frequencies if not 0 < f < nyquist]
            if bad:
                raise ValueError(
                    f"pattern_frequencies must lie in (0, H/2 = {nyquist:g}) cycles per image "
                    f"side (a period of more than 2 pixels), got {bad}"
                )
        return self

    def wave_frequencies(self) -> tuple[float, ...]:
        """The 'fourier' pattern input's frequencies, in cycles per image side."""
        if self.pattern_frequencies is not None:
            return tuple(self.pattern_frequencies)
        steps = int(math.floor(2 * math.log2(self.image_size / 8) + 1e-9)) + 1
        return tuple(2.0 * 2.0 ** (k / 2) for k in range(max(steps, 1)))


@register_generator("mimnet")
class MIMNetGenerator(Generator):
    """Manipulates an image with memory textures, in two stages (spec sections 3 and 4).

    ICM: ``g`` = mean texture over valid words; ``C = ResBlock([tile(W_g g); F_b])``;
    ``F_x`` = image encoder of ``x``; the localizer fuses ``F = β ⊙ C + (1 − β) ⊙ F_x``;
    ``U = up(F)`` at ``H/2``; coarse image ``x̂_0 = tanh(conv(U))``.
    FIR: ``R`` = attention of every position of ``U`` over ``W_t t_j`` (padded words
    masked); ``x̂_1 = tanh(conv(up(ResBlock([U; R]))))`` at ``H``.

    Without a localizer the coarse features are used everywhere (``F = C``), the output's
    ``localization`` is None and ``aux["localized_feature"]`` is the plain spatial mean of ``F_x``.

    The config's options beyond the paper (``skip_connections``, ``word_attention``,
    ``attention_keys``, ``output``, ``pattern_input``; all off by default) add U-Net skip
    paths, word attention at every size that also reads the word features, a pixel-space
    composite whose edit mask becomes ``localization``, and waves or noise the full-size
    decoder can lay a pattern by (see ``docs/mimnet.md``).
    """

    config_class = MIMNetGeneratorConfig
    uses = frozenset({"memory", "structure", "localizer"})

    def __init__(self, config: MIMNetGeneratorConfig | dict | None = None):
        super().__init__(config)
        c = self.config
        size, h, half = c.image_size, c.feature_size, c.image_size // 2
        down = [self.width(size >> k) for k in range(1, (size // h).bit_length())]
        down[-1] = c.channels
        self.image_encoder = DownsamplingEncoder(3, down)
        self.image_block = ResidualBlock(c.channels, c.channels)
        self.texture_projection = nn.Linear(c.texture_dim, c.channels, bias=False)  # W_g
        every = c.word_attention == "every_level"
        key_dim = c.word_dim if c.attention_keys == "word_and_texture" else None
        self.coarse_attention = (
            WordAttention(c.texture_dim, c.channels, key_dim) if every else None
        )
        self.coarse_block = ResidualBlock(
            c.channels * (2 if every else 1) + c.structure_channels, c.channels
        )
        # up path h -> H/2; level k doubles the size to s_k, merging the encoder's s_k features
        ups, merges, attentions, s = [], [], [], h
        while s < half:
            ups.append(UpsampleBlock(self.width(s) if s > h else c.channels, self.width(2 * s)))
            s *= 2
            if c.skip_connections:
                merges.append(ConvNormAct(2 * self.width(s), self.width(s), kernel_size=1))
            if every and s < half:
                attentions.append(WordAttention(c.texture_dim, self.width(s), key_dim))
        self.upsample = nn.Sequential(*ups)
        self.skip_merges = nn.ModuleList(merges)
        self.level_attentions = nn.ModuleList(attentions)
        image_channels = 4 if c.output == "composite" else 3
        self.coarse_decoder = _ToImage(self.width(half), image_channels)
        self.word_attention = WordAttention(c.texture_dim, self.width(half), key_dim)
        if c.skip_connections:
            self.fine_decoder = _FineDecoder(self.width(half), self.width(size), image_channels)
        else:
            self.fine_decoder = nn.Sequential(
                ResidualBlock(2 * self.width(half), self.width(half)),
                UpsampleBlock(self.width(half), self.width(size)),
                _ToImage(self.width(size), image_channels),
            )
        self.pattern_features = (
            None if c.pattern_input == "none"
            else _PatternInput(c.pattern_input, self.width(size), c.wave_frequencies())
        )

    def width(self, size: int) -> int:
        """Channels of a feature map of side ``size``."""
        c = self.config
        return min(c.channels, c.base_channels * c.image_size // size)

    @classmethod
    def example_config(cls) -> MIMNetGeneratorConfig:
        return cls.config_class(
            image_size=16,
            feature_size=4,
            channels=8,
            base_channels=4,
            word_dim=6,
            texture_dim=4,
            structure_channels=3,
        )

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size // 2, self.config.image_size)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim

    @property
    def texture_dim(self) -> int:
        return self.config.texture_dim

    @property
    def structure_channels(self) -> int:
        return self.config.structure_channels

    @property
    def structure_reduction(self) -> int:
        return self.config.image_size // self.config.feature_size

    @property
    def feature_channels(self) -> int:
        """Channels ``c`` of the maps a localizer fuses."""
        return self.config.channels

    def forward(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None = None,
        structure: Structure | None = None,
        localizer: Localizer | None = None,
    ) -> GeneratorOutput:
        """Manipulate ``image`` with the textures read for ``text``.

        Args:
            image: ``(b, 3, H, H)`` in ``[-1, 1]``.
            text: the description's encoding (MIM-Net reads text only through ``memory``).
            memory: ``(b, t, d)`` word-level textures from a memory bank (required).
            structure: the structure extractor's output, features ``(b, c_b, h, h)`` (required).
            localizer: fuses coarse and original features; None edits everywhere.

        Returns:
            :class:`GeneratorOutput` with the ``(b, 3, H/2, H/2)`` and ``(b, 3, H, H)`` images.
        """
        self._check_inputs(image, text, memory, structure)
        c = self.config
        words = text.words if c.attention_keys == "word_and_texture" else None
        texture, mask = memory.texture, memory.word_mask
        g = memory.global_texture()  # (b, d)
        texture_feature = self.texture_projection(g)  # W_g g, (b, c)
        levels = self.image_encoder(image)
        original = self.image_block(levels[-1])  # F_x, (b, c, h, h)
        tiled = tile_like(texture_feature, original)
        coarse_in = [tiled, structure.features.to(tiled.dtype)]
        if self.coarse_attention is not None:
            coarse_in.append(self.coarse_attention(original, texture, mask, words)[0])
        coarse = self.coarse_block(torch.cat(coarse_in, dim=1))
        if localizer is None:
            weights, fused = None, coarse
            localized = original.mean(dim=(2, 3))
        else:
            localization = localizer(coarse, original, g)
            weights, fused = localization.weights, localization.fused
            mass = weights.sum(dim=(2, 3)).clamp_min(1e-6)
            localized = (weights * original).sum(dim=(2, 3)) / mass  # p
        upsampled = fused
        for k, up in enumerate(self.upsample):  # U
            upsampled = up(upsampled)
            if self.skip_merges:
                skip = levels[len(levels) - 2 - k]
                upsampled = self.skip_merges[k](torch.cat([upsampled, skip], dim=1))
            if k < len(self.level_attentions):
                attended, _ = self.level_attentions[k](upsampled, texture, mask, words)
                upsampled = upsampled + attended
        attended, gamma = self.word_attention(upsampled, texture, mask, words)
        refined = torch.cat([upsampled, attended], dim=1)
        if c.skip_connections:
            fine = self.fine_decoder(refined, image, self.pattern_features)
        else:  # ResidualBlock -> UpsampleBlock (pattern input inside) -> image
            block, up, to_image = self.fine_decoder
            x = F.interpolate(block(refined), scale_factor=2.0, mode="nearest")
            fine = to_image(_conv_with_pattern(up.conv, x, self.pattern_features))
        coarse_image = self.coarse_decoder(upsampled)
        decoded = None
        if c.output == "composite":
            logits = None if weights is None else torch.logit(weights.float(), eps=1e-4)
            coarse_image, coarse_rgb, _ = _composite(coarse_image, image, logits)
            fine_image, fine_rgb, weights = _composite(fine, image, logits)
            decoded = (coarse_rgb, fine_rgb)
        else:
            fine_image = fine
        return GeneratorOutput(
            images=(coarse_image, fine_image),
            localization=weights,
            memory_attention=memory.attention,
            word_attention=gamma,
            decoded=decoded,
            aux={"texture_feature": texture_feature, "localized_feature": localized},
        )

    def _check_inputs(
        self,
        image: Tensor,
        text: TextEncoding,
        memory: MemoryRead | None,
        structure: Structure | None,
    ) -> None:
        c = self.config
        self.check_image_and_text(image, text, sentence=False)
        if memory is None or structure is None:
            missing = [n for n, v in (("memory", memory), ("structure", structure)) if v is None]
            raise InputError(
                f"{type(self).__name__} needs {' and '.join(missing)}: pass the memory bank's read "
                f"and the structure extractor's output (MIMNet.generate does it for you)"
            )
        if memory.texture.shape[-1] != c.texture_dim:
            raise InputError(
                f"memory textures are {memory.texture.shape[-1]}-wide, the generator expects "
                f"texture_dim={c.texture_dim}; set generator.texture_dim to the memory bank's slot_dim"
            )
        expected = (c.structure_channels, c.feature_size, c.feature_size)
        if tuple(structure.features.shape[1:]) != expected:
            raise InputError(
                f"structure features have shape {tuple(structure.features.shape[1:])}, the generator "
                f"expects (c, h, w) = {expected}; set generator.structure_channels to the extractor's "
                f"out_channels and its reduction to image_size / feature_size = {self.structure_reduction}"
            )


#: initial edit-mask logit of a composite generator (σ(4) ≈ 0.98)
_OPEN_MASK_LOGIT = 4.0


class _ToImage(nn.Sequential):
    """``(b, c, s, s) -> (b, 3, s, s)`` in ``[-1, 1]``; or, with 4 output channels, the raw
    ``(b, 4, s, s)`` change and edit-mask logit of a composite (see :func:`_composite`).

    A composite's convolution starts at zero with the mask logit's bias at
    :data:`_OPEN_MASK_LOGIT`: the generator starts as the identity with its mask open, so
    every pixel's change is trained at first and the mask learns to close where a change is
    not asked for (a mask that starts half-closed shuts everywhere within a few steps,
    before the change is worth keeping). The convolution is the first module either way,
    so saved weights keep their names (``…0.weight``) across versions.
    """

    def __init__(self, channels: int, out_channels: int = 3):
        conv = nn.Conv2d(channels, out_channels, 3, padding=1)
        if out_channels == 4:
            nn.init.zeros_(conv.weight)
            with torch.no_grad():
                conv.bias.copy_(torch.tensor([0.0, 0.0, 0.0, _OPEN_MASK_LOGIT]))
            super().__init__(conv)
        else:
            super().__init__(conv, nn.Tanh())


class _FineDecoder(nn.Module):
    """FIR's decoder with skip paths: ``[U; R]`` at ``H/2`` -> residual block -> ×2 ->
    concatenated with the input image -> convolution -> image (and mask logit)."""

    def __init__(self, half_channels: int, channels: int, out_channels: int):
        super().__init__()
        self.block = ResidualBlock(2 * half_channels, half_channels)
        self.conv = ConvNormAct(half_channels + 3, channels)
        self.to_image = _ToImage(channels, out_channels)

    def forward(self, refined: Tensor, image: Tensor, pattern: nn.Module | None = None) -> Tensor:
        x = F.interpolate(self.block(refined), scale_factor=2.0, mode="nearest")
        x = torch.cat([x, image.to(x.dtype)], dim=1)
        return self.to_image(_conv_with_pattern(self.conv, x, pattern))


def _conv_with_pattern(block: ConvNormAct, x: Tensor, pattern: nn.Module | None) -> Tensor:
    """``block(x)``, with the pattern input added between its convolution and its
    normalisation and activation (so the activation can gate the pattern by what the
    features say about the part)."""
    if pattern is None:
        return block(x)
    conv, *rest = block
    x = pattern(conv(x))
    for layer in rest:
        x = layer(x)
    return x


#: channels of the 'noise' pattern input
_NOISE_CHANNELS = 8
#: orientations of the 'fourier' pattern input's waves (radians from the image's x axis)
_WAVE_ANGLES = (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4)


class _PatternInput(nn.Module):
    """``(b, c, s, s) -> (b, c, s, s)``: adds ``conv1x1(P)`` to a decoder's features, where
    ``P`` is either waves of the pixel's image coordinates (``sin`` and ``cos`` of
    ``2π f (u cos θ + v sin θ)`` per frequency ``f`` and angle θ, ``u, v ∈ [0, 1]``) or
    Gaussian noise (fresh per call in training; in eval one draw of a fixed seed, shared by
    the batch). The convolution starts at zero, so a model gains the input unchanged and a
    trained model fine-tunes with it (``init_partial``).
    """

    def __init__(self, kind: str, channels: int, frequencies: tuple[float, ...]):
        super().__init__()
        self.kind = kind
        self.frequencies = frequencies
        inputs = 2 * len(_WAVE_ANGLES) * len(frequencies) if kind == "fourier" else _NOISE_CHANNELS
        self.projection = nn.Conv2d(inputs, channels, 1, bias=False)
        nn.init.zeros_(self.projection.weight)

    def forward(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        if self.kind == "fourier":
            p = _waves(self.frequencies, h, w, x.device).unsqueeze(0).expand(b, -1, -1, -1)
        elif self.training:
            p = torch.randn(b, _NOISE_CHANNELS, h, w, device=x.device)
        else:
            seeded = torch.Generator(device=x.device).manual_seed(0)
            p = torch.randn(1, _NOISE_CHANNELS, h, w, device=x.device, generator=seeded)
            p = p.expand(b, -1, -1, -1)
        return x + self.projection(p.to(x.dtype))


def _waves(frequencies: tuple[float, ...], h: int, w: int, device: torch.device) -> Tensor:
    """``(2·4·len(frequencies), h, w)`` float32: sin and cos per frequency and angle."""
    v, u = torch.meshgrid(
        (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h,
        (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w,
        indexing="ij",
    )
    phases = torch.stack([
        2 * math.pi * f * (u * math.cos(a) + v * math.sin(a))
        for f in frequencies for a in _WAVE_ANGLES
    ])
    return torch.cat([phases.sin(), phases.cos()])


def _composite(
    decoded: Tensor, image: Tensor, tlu_logits: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """The composite of a stage from its decoded change ``Δ`` and mask logit.

    ``rgb = tanh(atanh(x) + Δ)`` (the input changed in logit space: bounded, and ``x`` itself
    at ``Δ = 0``); ``α = σ(mask logit + up(TLU logit))``; output ``α ⊙ rgb + (1 − α) ⊙ x``.
    Computed in float32 so that a closed mask returns the input's exact values whatever
    precision the decoder ran in. Returns ``(output, rgb, α)`` at the decoded size.
    """
    size = decoded.shape[-1]
    delta, logit = decoded[:, :3].float(), decoded[:, 3:4].float()
    if tlu_logits is not None:
        logit = logit + F.interpolate(
            tlu_logits, size=(size, size), mode="bilinear", align_corners=False
        )
    x = image.float()
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    rgb = torch.tanh(torch.atanh(x.clamp(-0.999, 0.999)) + delta)
    alpha = torch.sigmoid(logit)
    return torch.lerp(x, rgb, alpha), rgb, alpha
