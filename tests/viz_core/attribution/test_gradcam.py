"""Grad-CAM against its formula, on maps and on ViT token grids."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import viz_core as vc

from . import nets


def test_grad_cam_matches_the_formula_on_a_tiny_cnn() -> None:
    """With global average pooling + linear, dS/dA_k(i,j) = W[c,k] / (h w), so alpha_k = W[c,k] / (h w)."""
    m = nets.tiny_cnn()
    x = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(1))
    module = m.model
    with torch.no_grad():
        maps = module.features(module.conv2(module.act1(module.conv1(x))))[0]
    for klass in range(3):
        alpha = module.fc.weight[klass] / (16 * 16)
        expected = torch.relu((alpha[:, None, None] * maps).sum(dim=0))
        result = vc.grad_cam(m, x, klass, layer="features")
        np.testing.assert_allclose(result.weights, alpha.numpy(), rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(result.map, expected.numpy(), rtol=1e-5, atol=1e-7)
        upsampled = F.interpolate(expected[None, None], size=(16, 16), mode="bilinear", align_corners=False)[0, 0]
        np.testing.assert_allclose(result.upsampled, upsampled.numpy(), rtol=1e-5, atol=1e-7)
        assert result.layer == "features"


def test_grad_cam_on_lite0_defaults_to_bn2_and_finds_the_cat(lite0: vc.LoadedModel) -> None:
    result = vc.grad_cam(lite0, vc.sample_image("chelsea (cat)"), 281)
    assert result.layer == "bn2" and result.map.shape == (7, 7) and result.upsampled.shape == (224, 224)
    assert result.map.max() > 0 and result.notes == ()


def test_grad_cam_on_vit_tokens_uses_the_patch_grid(random_vit: vc.LoadedModel) -> None:
    result = vc.grad_cam(random_vit, vc.sample_image("chelsea (cat)"), 3)
    assert result.layer == "blocks.11.norm1"
    assert result.map.shape == (4, 4) and result.upsampled.shape == (64, 64)
    assert np.abs(result.weights).sum() > 0


def test_grad_cam_on_vit_tokens_matches_the_formula(random_vit: vc.LoadedModel) -> None:
    x = random_vit.preprocess(vc.sample_image("chelsea (cat)"))
    with vc.hooks.capture(random_vit.model, ["blocks.5"], detach=False) as store, torch.enable_grad():
        image = x.clone().requires_grad_(True)
        score = random_vit.model(image)[0, 3]
        (grad,) = torch.autograd.grad(score, [store["blocks.5"]])
    tokens = store["blocks.5"].detach()[0, 1:]  # 16 patch tokens x 192
    alpha = grad[0, 1:].mean(dim=0)
    expected = torch.relu(tokens @ alpha).reshape(4, 4)
    result = vc.grad_cam(random_vit, x, 3, layer="blocks.5")
    np.testing.assert_allclose(result.map, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_guided_grad_cam_is_guided_times_cam() -> None:
    m = nets.tiny_cnn()
    x = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(2))
    guided = vc.backprop(m, x, 1, rule="guided")
    cam = vc.grad_cam(m, x, 1, layer="features")
    result = vc.guided_grad_cam(m, x, 1, layer="features")
    np.testing.assert_allclose(result.attribution, guided.attribution * cam.upsampled[None], rtol=1e-6, atol=1e-9)
    assert result.rule_applied == 2


def test_layer_without_a_map_is_a_clear_error(lite0: vc.LoadedModel) -> None:
    with pytest.raises(vc.LayerError, match="no spatial map") as info:
        vc.grad_cam(lite0, vc.sample_image("chelsea (cat)"), 1, layer="global_pool")
    assert "bn2" in info.value.hint
    with pytest.raises(vc.LayerError, match="no layer called"):
        vc.grad_cam(lite0, vc.sample_image("chelsea (cat)"), 1, layer="bn_2")


def test_layer_the_target_does_not_depend_on_gives_an_empty_map_with_a_note(random_vit: vc.LoadedModel) -> None:
    result = vc.grad_cam(random_vit, vc.sample_image("chelsea (cat)"), 3, layer="blocks.11")  # class token only
    assert not result.map.any() and result.notes and "does not depend" in result.notes[0]
