"""GAN-INT-CLS's generator (Reed et al., 2016, "Generative Adversarial Text to Image
Synthesis"): a DCGAN generator conditioned on a compressed sentence feature, one stage.

Shape legend: ``b`` batch, ``H`` the image size, ``d_s`` sentence feature width, ``k`` the
compressed text width, ``z`` noise width, ``c`` channels.

Follows the reference Torch code (github.com/reedscot/icml2016, ``main_cls_int.lua``:
``netG``) — the text feature compressed by a linear layer and LeakyReLU, joined with the
noise, a 4×4 full convolution, then stride-2 4×4 full convolutions halving the widths, each
of the two coarsest maps followed by a residual bottleneck (1×1 -> 3×3 -> 3×3), batch norm
as the reference (``norm="batch"``: running statistics when drawing, so a drawn image does
not depend on its batch; ``"group"`` for the editing generators' per-image norm) — with
widths capped at ``max_channels``. The text feature is the text encoder's sentence feature (the reference
reads a pretrained char-CNN-RNN embedding). Noise as in every text-to-image generator here:
an input, or ``N(0, I)`` in training mode and zeros in eval mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, field_validator
from torch import Tensor, nn

from textedit.config.base import ComponentConfig
from textedit.interfaces.generator import Generator, GeneratorOutput
from textedit.interfaces.localizer import Localizer
from textedit.interfaces.memory_bank import MemoryRead
from textedit.interfaces.structure_extractor import Structure
from textedit.interfaces.text_encoder import TextEncoding
from textedit.layers.conv_block import ConvNormAct, Norm, make_norm
from textedit.layers.init import dcgan_init
from textedit.registry.api import register_generator

__all__ = ["GANINTCLSGenerator", "GANINTCLSGeneratorConfig"]

_INIT_SIZE = 4


class GANINTCLSGeneratorConfig(ComponentConfig):
    image_size: int = Field(64, gt=0, description="size H of the images it draws (a power of two, at least 8)")
    word_dim: int = Field(256, gt=0, description="width of the text encoder's word features (not read)")
    sentence_dim: int | None = Field(None, gt=0, description="width d_s of the sentence feature; None: word_dim")
    condition_dim: int = Field(128, gt=0, description="width k the sentence feature is compressed to (nt = 128 in the reference)")
    noise_dim: int = Field(100, gt=0, description="width z of the noise (nz = 100 in the reference)")
    base_channels: int = Field(128, gt=0, description="ngf: channels of the last map before RGB; doubled per coarser map")
    max_channels: int = Field(1024, gt=0, description="cap on the channels of any map (8·ngf at 64 px in the reference)")
    residual: bool = Field(True, description="a residual bottleneck after each of the two coarsest maps (the reference's)")
    norm: Norm = Field(
        "batch",
        description="normalisation of every block: 'batch' (the reference's; running statistics "
        "when drawing) or 'group' (per image, as the editing generators)",
    )

    @field_validator("image_size")
    @classmethod
    def _size(cls, size: int) -> int:
        if size < 2 * _INIT_SIZE or size & (size - 1):
            raise ValueError(f"image_size must be a power of two >= {2 * _INIT_SIZE}, got {size}")
        return size


class _Bottleneck(nn.Module):
    """``relu(x + norm(conv3×3(relu(norm(conv3×3(relu(norm(conv1×1(x)))))))))`` with a
    quarter of the channels inside (the reference's residual block)."""

    def __init__(self, channels: int, norm: Norm):
        super().__init__()
        inner = max(1, channels // 4)
        self.body = nn.Sequential(
            ConvNormAct(channels, inner, kernel_size=1, norm_kind=norm),
            ConvNormAct(inner, inner, norm_kind=norm),
            ConvNormAct(inner, channels, activation="none", norm_kind=norm),
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x + self.body(x))


@register_generator("gan_int_cls")
class GANINTCLSGenerator(Generator):
    """Draws an image from a sentence and noise in one stage (GAN-INT-CLS).

    ``c = lrelu(W s)`` ``(b, k)``; ``h = relu(norm(deconv4×4([c; z])))`` ``(b, c_0, 4, 4)``;
    then ``log2(H/4)`` blocks of ``relu(norm(deconv4×4/2(h)))``, widths
    ``min(max_channels, ngf·2^j)`` coarse to fine (1024, 512, 256, 128 at 64 px with
    ngf = 128), the last block drawing ``x̂ = tanh(deconv(h))`` in RGB; a residual bottleneck
    follows the 4×4 and 8×8 maps. Reads only the sentence: ``forward(None, text, noise=z)``.
    """

    config_class = GANINTCLSGeneratorConfig
    config: GANINTCLSGeneratorConfig
    uses = frozenset()
    reads_image = False

    def __init__(self, config: GANINTCLSGeneratorConfig | dict | None = None):
        super().__init__(config)
        cfg = self.config
        ups = (cfg.image_size // _INIT_SIZE).bit_length() - 1
        widths = [min(cfg.max_channels, cfg.base_channels << (ups - 1 - j)) for j in range(ups)]
        self.compression = nn.Sequential(nn.Linear(self.sentence_dim, cfg.condition_dim), nn.LeakyReLU(0.2))
        self.initial = nn.ConvTranspose2d(cfg.condition_dim + cfg.noise_dim, widths[0], _INIT_SIZE, bias=False)
        self.initial_norm = make_norm(widths[0], cfg.norm)
        blocks: list[nn.Module] = [_Bottleneck(widths[0], cfg.norm)] if cfg.residual else []
        for j in range(ups):
            last = j == ups - 1
            out = 3 if last else widths[j + 1]
            blocks.append(nn.ConvTranspose2d(widths[j], out, 4, stride=2, padding=1, bias=last))
            if not last:
                blocks += [make_norm(out, cfg.norm), nn.ReLU()]
                if cfg.residual and j == 0:
                    blocks.append(_Bottleneck(out, cfg.norm))
        self.decoder = nn.Sequential(*blocks)
        self.apply(dcgan_init)

    @classmethod
    def example_config(cls) -> GANINTCLSGeneratorConfig:
        """A 16-px config with tiny widths."""
        return cls.config_class(
            image_size=16, word_dim=6, sentence_dim=5, condition_dim=4, noise_dim=3, base_channels=4, max_channels=16
        )

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @property
    def stage_sizes(self) -> tuple[int, ...]:
        return (self.config.image_size,)

    @property
    def word_dim(self) -> int:
        return self.config.word_dim

    @property
    def sentence_dim(self) -> int:
        return self.config.sentence_dim or self.config.word_dim

    @property
    def noise_dim(self) -> int:
        return self.config.noise_dim

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
            text: the descriptions' encoding; only the sentence ``(b, d_s)`` is read.
            memory: ignored. structure: ignored. localizer: ignored.
            noise: ``(b, z)``, or None (module docstring).

        Returns:
            :class:`GeneratorOutput` with one ``(b, 3, H, H)`` image.
        """
        self.check_image_and_text(image, text, words=False)
        condition = self.compression(text.sentence.to(self.initial.weight.dtype))
        joint = torch.cat([condition, self.resolve_noise(noise, condition)], dim=1)[:, :, None, None]
        h = F.relu(self.initial_norm(self.initial(joint)))
        return GeneratorOutput(images=(torch.tanh(self.decoder(h)),))
