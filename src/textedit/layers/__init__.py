"""Network blocks shared by the built-in components, one small file per block.

Shape legend: ``b`` batch, ``c`` channels, ``h``/``w`` spatial size, ``t`` words.
"""

from textedit.layers.conditioning_augmentation import ConditioningAugmentation
from textedit.layers.conv_block import ConvNormAct
from textedit.layers.downsampling_encoder import DownsamplingEncoder
from textedit.layers.glu_block import GLUBlock, GLUResidualBlock
from textedit.layers.init import dcgan_init
from textedit.layers.masked_softmax import masked_log_softmax, masked_softmax
from textedit.layers.memory_format import is_channels_last, tile_like, weights_format
from textedit.layers.packed_lstm import PackedBiLSTM
from textedit.layers.residual_block import ResidualBlock
from textedit.layers.sobel import SobelEdges
from textedit.layers.upsample_block import UpsampleBlock
from textedit.layers.word_attention import WordAttention

__all__ = [
    "ConditioningAugmentation",
    "ConvNormAct",
    "dcgan_init",
    "DownsamplingEncoder",
    "GLUBlock",
    "GLUResidualBlock",
    "is_channels_last",
    "masked_softmax",
    "masked_log_softmax",
    "PackedBiLSTM",
    "ResidualBlock",
    "SobelEdges",
    "tile_like",
    "UpsampleBlock",
    "WordAttention",
    "weights_format",
]
