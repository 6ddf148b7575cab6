"""channel_map: where one channel fires, on maps and token grids, checked against the module's output."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.hooks import capture, count_hooks

from . import nets


def test_channel_map_is_the_layer_output_on_a_tiny_cnn() -> None:
    m = nets.tiny_cnn()
    x = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(2))
    module = m.model
    with torch.no_grad():
        expected = module.conv2(module.act1(module.conv1(x)))[0]
    for channel in range(expected.shape[0]):
        np.testing.assert_allclose(vc.channel_map(m, x, "conv2", channel), expected[channel].numpy(), rtol=1e-5, atol=1e-6)
    assert count_hooks(module) == 0


def test_channel_map_of_a_token_layer_drops_the_class_token(random_vit: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    values = vc.channel_map(random_vit, image, "blocks.2", 5)
    assert values.shape == (4, 4)  # 64 px / 16 px patches
    with torch.no_grad(), capture(random_vit.model, ["blocks.2"]) as store:
        random_vit.model(random_vit.preprocess(image))
    np.testing.assert_allclose(values.ravel(), store["blocks.2"][0, 1:, 5].numpy(), rtol=1e-5, atol=1e-6)


def test_channel_map_bad_requests_say_why(random_cnn: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    with pytest.raises(vc.TargetError, match="out of range"):
        vc.channel_map(random_cnn, image, "layer1", 10_000)
    with pytest.raises(vc.LayerError, match="no spatial positions"):
        vc.channel_map(random_cnn, image, "fc", 0)
