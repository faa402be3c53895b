"""A bidirectional LSTM over padded sequences that never reads the padding."""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["PackedBiLSTM"]


class PackedBiLSTM(nn.Module):
    """``(b, t, c_in)`` with a ``(b, t)`` mask -> ``(b, t, 2·hidden)`` and ``(b, 2·hidden)``.

    The mask must be left-aligned (True on a prefix of each row, at least one per row).
    Outputs are exactly zero at padded positions; the summary is the last hidden state of
    the forward direction concatenated with that of the backward direction (top layer).

    Args:
        input_dim: width of the inputs.
        hidden_dim: hidden size per direction.
        num_layers: stacked layers.
        dropout: dropout between stacked layers.
    """

    def __init__(self, input_dim: int, hidden_dim: int, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.lstm = nn.LSTM(
            input_dim,
            hidden_dim,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )

    @property
    def output_dim(self) -> int:
        return 2 * self.lstm.hidden_size

    def forward(self, inputs: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        total = inputs.shape[1]
        lengths = mask.sum(1).clamp_min(1).cpu()
        on_cpu = inputs.device.type == "cpu"
        if on_cpu:
            # CPU autocast runs the LSTM as one bfloat16 matmul per step and direction; the
            # fused kernel in the weights' precision is faster (12.6 against 18.7 ms forward
            # and backward for the bundled model's encoder at batch 16, float32)
            inputs = inputs.to(self.lstm.weight_ih_l0.dtype)
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        with torch.autocast("cpu", enabled=False) if on_cpu else contextlib.nullcontext():
            out, (hidden, _) = self.lstm(packed)
        outputs, _ = pad_packed_sequence(out, batch_first=True, total_length=total)
        summary = torch.cat([hidden[-2], hidden[-1]], dim=-1)
        return outputs, summary
