"""Channels-last models stay channels-last: the layout helpers, the attention layers that
build maps themselves, and every built-in model's convolutions in an edit (or a drawing)
and a training iteration. (That a channels-last model gives the planar model's results is
the ``channels_last`` check of the model conformance kit.)"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from textedit.components.generator.manigan import ChannelWordAttention
from textedit.editing.text import EditWarning
from textedit.interfaces import GeneratingModel
from textedit.layers import WordAttention, is_channels_last, tile_like, weights_format
from textedit.layers.memory_format import positions, positions_product
from textedit.registry.api import resolve_model_config
from textedit.testing import registered_models
from textedit.training.config import TrainConfig
from textedit.training.trainer import Trainer

CL = torch.channels_last
BUILT_IN = [n for n in registered_models() if resolve_model_config(n)[0].__module__.startswith("textedit.")]


def _maps(b=2, c=5, h=4, w=3, seed=0):
    return torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(seed))


def test_is_channels_last_tells_the_layouts_apart_and_not_the_ambiguous_maps():
    x = _maps()
    assert not is_channels_last(x)
    assert is_channels_last(x.contiguous(memory_format=CL))
    assert not is_channels_last(torch.randn(2, 1, 4, 4).contiguous(memory_format=CL))  # one channel: both


def test_tile_like_repeats_the_vector_in_the_layout_of_the_map():
    vector = torch.randn(2, 3)
    for like in (_maps(), _maps().contiguous(memory_format=CL)):
        tiled = tile_like(vector, like)
        assert tiled.shape == (2, 3, 4, 3)
        assert torch.equal(tiled, vector[:, :, None, None].expand(-1, -1, 4, 3))
        assert is_channels_last(tiled) == is_channels_last(like)
        assert is_channels_last(torch.cat([like, tiled], dim=1)) == is_channels_last(like)


def test_positions_is_a_view_and_the_product_comes_back_in_the_layout_of_the_map():
    for like in (_maps(), _maps().contiguous(memory_format=CL)):
        rows = positions(like)
        assert rows.shape == (2, 12, 5) and rows.data_ptr() == like.data_ptr()
        torch.testing.assert_close(rows, like.flatten(2).transpose(1, 2))
        columns = torch.randn(2, 5, 7)
        product = positions_product(rows, columns, like)
        assert product.shape == (2, 7, 4, 3) and is_channels_last(product) == is_channels_last(like)
        torch.testing.assert_close(product, torch.bmm(rows, columns).transpose(1, 2).reshape(2, 7, 4, 3))


def test_weights_format_reads_the_first_kernel_that_tells():
    net = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(1, 4, 3), nn.Conv2d(4, 8, 3))
    assert weights_format(net) == torch.contiguous_format
    assert weights_format(net.to(memory_format=CL)) == CL
    assert weights_format(nn.Sequential(nn.Conv2d(4, 4, 1)).to(memory_format=CL)) == torch.contiguous_format
    assert weights_format(nn.Linear(3, 4)) == torch.contiguous_format


@pytest.mark.parametrize("key_dim", [None, 6])
def test_word_attention_gives_the_same_values_in_either_layout_and_keeps_it(key_dim):
    torch.manual_seed(0)
    attention = WordAttention(texture_dim=7, channels=5, key_dim=key_dim)
    texture = torch.randn(2, 4, 7)
    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    words = None if key_dim is None else torch.randn(2, 4, key_dim)
    planar, gamma = attention(_maps(), texture, mask, words)
    last, gamma_last = attention(_maps().contiguous(memory_format=CL), texture, mask, words)
    assert not is_channels_last(planar) and is_channels_last(last)
    torch.testing.assert_close(last, planar)
    torch.testing.assert_close(gamma_last, gamma)


def test_channel_word_attention_gives_the_same_values_in_either_layout_and_keeps_it():
    torch.manual_seed(0)
    attention = ChannelWordAttention(word_dim=6, size=4)
    words, mask = torch.randn(2, 3, 6), torch.tensor([[True, True, False], [True, True, True]])
    attended = _maps(h=4, w=4)
    planar = attention(attended, words, mask)
    last = attention(attended.contiguous(memory_format=CL), words, mask)
    assert not is_channels_last(planar) and is_channels_last(last)
    torch.testing.assert_close(last, planar)


def _record_converted_inputs(model: nn.Module) -> list[str]:
    """Hooks that note every convolution whose input is not channels-last."""
    converted: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            def hook(module, inputs, output, name=name):
                x = inputs[0]
                if not x.is_contiguous(memory_format=CL):
                    converted.append(f"{name} {tuple(x.shape)} strides {x.stride()}")
            module.register_forward_hook(hook)
    return converted


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_channels_last_model_feeds_every_convolution_channels_last(name, tmp_path):
    """A convolution given the other layout converts its input on every call, forward and
    backward (it was 8 % of a ``mimnet_128`` training step): no built-in model does it."""
    composition, _ = resolve_model_config(name)
    config = TrainConfig.model_validate({
        "model": {**composition.example_config().to_dict(), "type": name},
        "data": {"type": "synthetic", "family": "birds", "num_images": 4, "sample_split": None},
        "batch_size": 2, "steps": 1, "ema_decay": None, "channels_last": True,
        "output_dir": str(tmp_path / "run"), "device": "cpu",
    })
    trainer = Trainer(config, progress=False)
    model = trainer.model
    assert model.memory_format == CL
    converted = _record_converted_inputs(model)
    trainer.train_step()
    assert not converted, "converted in training:\n" + "\n".join(converted)
    texts = ["this bird has a red head and white wings", "the bird is blue"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EditWarning)
        if isinstance(model, GeneratingModel):
            model.generate(texts, allow_unknown=True)
        else:  # a planar input: edit brings it to the model's layout
            model.edit(torch.rand(2, 3, model.image_size, model.image_size) * 2 - 1, texts, allow_unknown=True)
    assert not converted, "converted in inference:\n" + "\n".join(converted)
