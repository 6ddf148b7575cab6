"""SmoothGrad and integrated gradients: zero noise is the gradient, completeness holds."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.attribution.smoothing import baseline_input

from . import nets


def test_smoothgrad_with_zero_noise_is_the_gradient(random_cnn: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    for rule in ("vanilla", "guided"):
        plain = vc.backprop(random_cnn, image, 7, rule=rule).attribution
        smooth = vc.smoothgrad(random_cnn, image, 7, samples=5, noise=0.0, rule=rule, batch_size=2)
        np.testing.assert_allclose(smooth.attribution, plain, rtol=1e-5, atol=1e-7)
        assert smooth.rule_applied == (0 if rule == "vanilla" else vc.backprop(random_cnn, image, 7, rule=rule).rule_applied)


def test_smoothgrad_is_seeded_and_the_mean_of_noisy_gradients() -> None:
    m = nets.relu_net()
    first = vc.smoothgrad(m, nets.X, 0, samples=6, noise=0.2, seed=3)
    again = vc.smoothgrad(m, nets.X, 0, samples=6, noise=0.2, seed=3, batch_size=6)
    other = vc.smoothgrad(m, nets.X, 0, samples=6, noise=0.2, seed=4)
    np.testing.assert_array_equal(first.attribution, vc.smoothgrad(m, nets.X, 0, samples=6, noise=0.2, seed=3).attribution)
    assert first.params["samples"] == 6 and first.params["noise"] == 0.2
    assert not np.array_equal(first.attribution, other.attribution)
    # by hand: draw the same noise, average the gradients
    generator = torch.Generator().manual_seed(3)
    sigma = 0.2 * float(nets.X.max() - nets.X.min())
    noisy = nets.X + sigma * torch.randn((6, 1, 2, 2), generator=generator)
    grads = [vc.backprop(m, noisy[i : i + 1], 0).attribution for i in range(6)]
    np.testing.assert_allclose(again.attribution, np.mean(grads, axis=0), rtol=1e-5, atol=1e-6)


def test_integrated_gradients_on_a_linear_model_is_exact() -> None:
    m = nets.smooth_net(nn.Identity())
    result = vc.integrated_gradients(m, nets.X, 0, baseline="mean", steps=3)
    weights = torch.tensor(nets.W2)[0] @ torch.tensor(nets.W1)
    np.testing.assert_allclose(result.attribution.ravel(), (weights * nets.X.flatten()).numpy(), rtol=1e-5)


def test_integrated_gradients_completeness_on_a_smooth_net() -> None:
    """Gauss-Legendre on a smooth (SiLU) net: |gap| <= 1e-4 of f(x) - f(x') with 16 steps."""
    m = nets.smooth_net(nn.SiLU())
    result = vc.integrated_gradients(m, nets.X, 1, baseline="mean", steps=16)
    assert abs(result.completeness_gap) <= 1e-4 * abs(result.score - result.baseline_score)


def test_integrated_gradients_completeness_on_a_relu_resnet(random_cnn: vc.LoadedModel) -> None:
    """ReLU nets make the path integrand piecewise constant: with 64 steps |gap| <= 1% of f(x) - f(x')."""
    result = vc.integrated_gradients(random_cnn, vc.sample_image("chelsea (cat)"), 1, baseline="black", steps=64, batch_size=16)
    difference = result.score - result.baseline_score
    assert abs(difference) > 1e-3
    assert abs(result.completeness_gap) <= 0.01 * abs(difference)


def test_baselines(random_cnn: vc.LoadedModel) -> None:
    x = random_cnn.preprocess(vc.sample_image("chelsea (cat)"))
    black = baseline_input(random_cnn, x, "black")
    np.testing.assert_allclose(random_cnn.deprocess(black), 0)
    assert not baseline_input(random_cnn, x, "mean").any()
    blurred = baseline_input(random_cnn, x, "blurred")
    assert blurred.shape == x.shape and blurred.std() < x.std()
    np.testing.assert_allclose(blurred.mean().item(), x.mean().item(), atol=0.05)
    with pytest.raises(vc.ConvlensError, match="Unknown baseline"):
        baseline_input(random_cnn, x, "white")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"samples": 0}, "samples"), ({"noise": 2.0}, "noise"), ({"batch_size": 0}, "batch"), ({"rule": "x"}, "rule")],
)
def test_smoothgrad_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(vc.ConvlensError, match=message):
        vc.smoothgrad(nets.relu_net(), nets.X, 0, **kwargs)


def test_progress_reaches_one() -> None:
    seen: list[float] = []
    vc.integrated_gradients(nets.relu_net(), nets.X, 0, steps=5, batch_size=2, on_step=lambda info: seen.append(info.fraction))
    assert seen == pytest.approx([0.4, 0.8, 1.0])
