"""Why predicted and not true: the contrastive target against its definition on tiny nets."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc

from . import nets


def test_the_contrastive_gradient_is_the_difference_of_the_two_gradients() -> None:
    m = nets.relu_net()
    result = vc.contrast(m, nets.X, 0, 1)
    expected = vc.backprop(m, nets.X, 0).attribution - vc.backprop(m, nets.X, 1).attribution
    np.testing.assert_allclose(result.contrastive.attribution, expected, rtol=1e-6, atol=1e-7)
    # by hand: a1 = [3, 0, 3], a2 = [3, 0], logits [3, -3]; d(l0 - l1)/dx = (W3[0] - W3[1]) · D2 · W2 · D1 · W1
    w1, w2, w3 = (torch.tensor(w) for w in (nets.W1, nets.W2, nets.W3))
    by_hand = ((w3[0] - w3[1]) * torch.tensor([1.0, 0.0])) @ w2 * torch.tensor([1.0, 0.0, 1.0]) @ w1
    np.testing.assert_allclose(result.contrastive.attribution.reshape(-1), by_hand.numpy(), rtol=1e-6)
    assert result.contrastive.score == pytest.approx(3.0 - (-3.0))
    assert result.logits == (pytest.approx(3.0), pytest.approx(-3.0)) and result.probabilities[0] > 0.99
    np.testing.assert_allclose(result.guided[0].attribution, vc.backprop(m, nets.X, 0, rule="guided").attribution)
    assert result.cams is None and any("No Grad-CAM" in note for note in result.notes)  # no layer with a map
    assert [o.target for o in result.occlusions] == ["class 0 'a' (probability)", "class 1 'b' (probability)"]


def test_contrastive_grad_cam_weights_are_the_difference_of_the_class_weights() -> None:
    """alpha_k is linear in the score: alpha(pred - true) = alpha(pred) - alpha(true) = (W[p] - W[t]) / (h w)."""
    m = nets.tiny_cnn()
    x = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(1))
    steps: list[float] = []
    result = vc.contrast(m, x, 2, 0, layer="features", patch=4, stride=4, on_step=lambda info: steps.append(info.fraction))
    assert result.cams is not None and result.contrastive_cam is not None
    np.testing.assert_allclose(result.contrastive_cam.weights, result.cams[0].weights - result.cams[1].weights, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(result.contrastive_cam.weights, ((m.model.fc.weight[2] - m.model.fc.weight[0]) / 256).numpy(), rtol=1e-5, atol=1e-9)
    drop = result.occlusions[0]
    assert drop.score.shape == (4, 4) and drop.params["patch"] == 4
    assert steps == sorted(steps) and steps[-1] == pytest.approx(1.0)
    assert result.params["grad_cam_layer"] == "features" and result.class_names == ("c", "a")


def test_a_contrast_needs_two_valid_classes() -> None:
    m = nets.tiny_cnn()
    with pytest.raises(vc.TargetError, match="two different classes"):
        vc.contrast(m, torch.zeros((1, 3, 16, 16)), 1, 1)
    with pytest.raises(vc.TargetError, match="out of range"):
        vc.contrast(m, torch.zeros((1, 3, 16, 16)), 1, 7)
    assert vc.class_contrast(2, 0).spec() == {"kind": "contrast", "a": 2, "b": 0}
