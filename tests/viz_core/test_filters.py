"""Filters as pictures: known weights give known tiles; kernels; ViT patch embeddings; errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc


def tiny() -> vc.LoadedModel:
    net = nn.Sequential(nn.Conv2d(3, 2, 2), nn.ReLU(), nn.Conv2d(2, 3, 3), nn.Flatten(), nn.LazyLinear(4))
    net(torch.zeros(1, 3, 8, 8))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[0, 0, 0, 0] = 2.0  # filter 0: one red pixel at the top left
        net[0].weight[1, 2, 1, 1] = -1.0  # filter 1: one negative blue pixel at the bottom right
        net[0].weight[1, 1, 0, 1] = 0.5
    config = {"input_size": (3, 8, 8), "mean": (0.5,) * 3, "std": (0.5,) * 3, "crop_pct": 1.0}
    return vc.LoadedModel.from_module(net, data_config=config, class_names=list("abcd"))


def test_first_layer_is_rgb_tiles_with_per_filter_scale() -> None:
    result = vc.filters(tiny())
    assert result.layer == "0" and result.mode == "rgb" and result.tiles.shape == (2, 2, 2, 3)
    assert result.tiles[0, 0, 0].tolist() == [255, 128, 128]  # +max -> 1, zero -> 0.5
    assert result.tiles[1, 1, 1].tolist() == [128, 128, 0]  # -max -> 0
    assert result.tiles[1, 0, 1].tolist() == [128, 191, 128]  # 0.5 of the filter's max


def test_shared_scale_uses_one_range() -> None:
    result = vc.filters(tiny(), scale="shared")
    assert result.tiles[0, 0, 0].tolist() == [255, 128, 128]
    assert result.tiles[1, 1, 1].tolist() == [128, 128, 64]  # -1 of a shared max of 2


def test_deeper_conv_is_a_grid_of_kernels() -> None:
    m = tiny()
    result = vc.filters(m, "2")
    assert result.mode == "kernels" and result.kernels.shape == (3, 2, 3, 3) and "hard to read" in result.notes[0]
    weight = m.model[2].weight.detach().numpy()
    np.testing.assert_allclose(result.kernels[1], weight[1] / np.abs(weight[1]).max(), rtol=1e-6)


def test_vit_patch_embedding_is_rgb(random_vit: vc.LoadedModel) -> None:
    result = vc.filters(random_vit)
    assert result.layer == "patch_embed.proj" and result.mode == "rgb" and result.tiles.shape == (64, 16, 16, 3)


def test_lite0_stem_and_depthwise_layers(lite0: vc.LoadedModel) -> None:
    stem = vc.filters(lite0)
    assert stem.layer == "conv_stem" and stem.tiles.shape == (32, 3, 3, 3)
    depthwise = vc.filters(lite0, "blocks.1.0.conv_dw")
    assert depthwise.mode == "kernels" and depthwise.kernels.shape[1] == 1 and "depthwise" in depthwise.notes[0]


def test_digits_first_layer_is_gray_tiles() -> None:
    result = vc.filters(vc.load_model("digits_cnn"))
    assert result.tiles.shape == (16, 3, 3, 3)
    assert np.all(result.tiles[..., 0] == result.tiles[..., 2])


def test_non_conv_layers_are_refused() -> None:
    with pytest.raises(vc.LayerError, match="not a 2-D convolution"):
        vc.filters(tiny(), "4")
    with pytest.raises(vc.SettingsError, match="Unknown scale"):
        vc.filters(tiny(), scale="global")
