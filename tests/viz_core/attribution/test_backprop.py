"""The backprop engine against hand-computed gradients, and rules on real activations."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.attribution.backprop import local_backward, rule_modules

from . import nets

# Hand computation for nets.relu_net at nets.X (masks: layer 1 [1, 0, 1], layer 2 [1, 0]).
# class 0: dL/da2 = [1, -1]
#   vanilla   dh2 = [1, 0]  -> da1 = [2, 1, -1] -> dh1 = [2, 0, -1]        -> dx = 2 W1[0] - W1[2]
#   guided    dh2 = [1, 0]  -> da1 = [2, 1, -1] -> dh1 = [1,0,1]*[2,1,0]  -> dx = 2 W1[0]
#   deconvnet dh2 = [1, 0]  -> da1 = [2, 1, -1] -> dh1 = [2, 1, 0]        -> dx = 2 W1[0] + W1[1]
# class 1: dL/da2 = [-1, 2]
#   vanilla   dh2 = [-1, 0] -> da1 = [-2, -1, 1] -> dh1 = [-2, 0, 1]      -> dx = -2 W1[0] + W1[2]
#   guided    dh2 = [1,0]*[0,2] = [0, 0]                                  -> dx = 0
#   deconvnet dh2 = [0, 2]  -> da1 = [-4, 2, 2] -> dh1 = [0, 2, 2]        -> dx = 2 W1[1] + 2 W1[2]
EXPECTED = {
    (0, "vanilla"): [1.0, 2.0, 1.0, -2.0],
    (0, "guided"): [2.0, 2.0, 0.0, 0.0],
    (0, "deconvnet"): [2.0, 1.0, 0.0, 2.0],
    (1, "vanilla"): [-1.0, -2.0, -1.0, 2.0],
    (1, "guided"): [0.0, 0.0, 0.0, 0.0],
    (1, "deconvnet"): [2.0, -2.0, -2.0, 8.0],
}


@pytest.mark.parametrize(("klass", "rule"), list(EXPECTED))
def test_hand_built_relu_net_matches_hand_computation(klass: int, rule: str) -> None:
    m = nets.relu_net()
    result = vc.backprop(m, nets.X, klass, rule=rule)
    np.testing.assert_array_equal(result.attribution.ravel(), np.array(EXPECTED[(klass, rule)], dtype=np.float32))
    assert result.score == (3.0 if klass == 0 else -3.0)
    assert result.rule_applied == (0 if rule == "vanilla" else 2)
    assert result.notes == ()


def test_unit_target_of_a_hidden_neuron() -> None:
    m = nets.relu_net()
    # a1[0] = relu(x0 + x1): its gradient is W1[0] for every rule (active unit, gradient 1 > 0)
    for rule in vc.RULES:
        result = vc.backprop(m, nets.X, vc.unit("2", 0), rule=rule)
        np.testing.assert_array_equal(result.attribution.ravel(), np.array([1.0, 1.0, 0.0, 0.0], dtype=np.float32))
        assert result.score == 3.0


def test_vanilla_equals_plain_autograd_on_lite0(lite0: vc.LoadedModel) -> None:
    x = lite0.preprocess(vc.sample_image("chelsea (cat)"))
    image = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(lite0.model(image)[0, 281], [image])
    result = vc.backprop(lite0, x, 281)
    np.testing.assert_allclose(result.attribution, expected[0].numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(result.saliency, expected[0].abs().amax(dim=0).numpy(), rtol=1e-5, atol=1e-8)


def test_rules_change_the_gradient_on_relu6_lite0(lite0: vc.LoadedModel) -> None:
    """Fails if a rule is silently not applied to ReLU6 (what Captum does on this model)."""
    x = lite0.preprocess(vc.sample_image("chelsea (cat)"))
    vanilla = vc.backprop(lite0, x, 281, rule="vanilla").attribution
    for rule in ("guided", "deconvnet"):
        result = vc.backprop(lite0, x, 281, rule=rule)
        assert result.rule_applied == 33 and len(result.rule_modules) == 33
        assert all(name.endswith(".act") for name in result.rule_modules)  # inside BatchNormAct2d
        assert np.abs(result.attribution - vanilla).max() > 0.1 * np.abs(vanilla).max()
    guided = vc.backprop(lite0, x, 281, rule="guided").attribution
    deconvnet = vc.backprop(lite0, x, 281, rule="deconvnet").attribution
    assert not np.allclose(guided, deconvnet)


@pytest.mark.parametrize("activation", [nn.SiLU(), nn.GELU(), nn.Hardswish(), nn.LeakyReLU(0.1), nn.ReLU6()])
def test_rules_on_other_activations_follow_the_stated_generalisation(activation: nn.Module) -> None:
    m = nets.smooth_net(activation)
    w1, w2 = torch.tensor(nets.W1), torch.tensor(nets.W2)
    h = w1 @ nets.X.flatten()
    leaf = h.clone().requires_grad_(True)
    (derivative,) = torch.autograd.grad(activation(leaf).sum(), leaf)
    for klass in (0, 1):
        upstream = w2[klass]
        expected = {
            "vanilla": w1.T @ (derivative * upstream),
            "guided": w1.T @ (derivative * upstream.clamp(min=0)),
            "deconvnet": w1.T @ upstream.clamp(min=0),
        }
        for rule, value in expected.items():
            result = vc.backprop(m, nets.X, klass, rule=rule)
            np.testing.assert_allclose(result.attribution.ravel(), value.numpy(), rtol=1e-5, atol=1e-6)
            assert result.rule_applied == (0 if rule == "vanilla" else 1)


def test_gelu_vit_gets_the_rule(random_vit: vc.LoadedModel) -> None:
    image = vc.sample_image("chelsea (cat)")
    vanilla = vc.backprop(random_vit, image, 3, rule="vanilla")
    guided = vc.backprop(random_vit, image, 3, rule="guided")
    assert guided.rule_applied == 12 and vanilla.rule_applied == 0
    assert not np.allclose(guided.attribution, vanilla.attribution)


def test_sigmoid_gates_are_not_rectifiers() -> None:
    se_like = nn.Sequential(nn.Conv2d(3, 4, 1), nn.SiLU(), nn.Conv2d(4, 4, 1), nn.Sigmoid(), nn.Tanh(), nn.Hardsigmoid())
    assert list(rule_modules(se_like)) == ["1"]


def test_local_backward_matches_autograd() -> None:
    x = torch.cat([torch.linspace(-8, 8, 161), torch.tensor([0.0, 6.0, -2.0, 3.0])])
    grad = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    for module in (nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.Hardtanh(-2, 3), nn.SiLU(), nn.GELU(), nn.Hardswish()):
        leaf = x.clone().requires_grad_(True)
        (expected,) = torch.autograd.grad(module(leaf), leaf, grad)
        torch.testing.assert_close(local_backward(module, x, grad), expected)


def test_rule_with_no_reachable_activation_says_so() -> None:
    m = nets.functional_net()
    result = vc.backprop(m, nets.X, 0, rule="guided")
    assert result.rule_applied == 0
    assert result.notes and "plain gradient" in result.notes[0]


def test_unit_on_a_vit_token_layer(random_vit: vc.LoadedModel) -> None:
    result = vc.backprop(random_vit, vc.sample_image("chelsea (cat)"), vc.unit("blocks.3", 7, 1, 2), rule="guided")
    assert result.attribution.shape == (3, 64, 64)
    assert np.abs(result.attribution).sum() > 0


def test_gradient_x_input_is_the_product() -> None:
    m = nets.relu_net()
    result = vc.gradient_x_input(m, nets.X, 0)
    np.testing.assert_array_equal(result.attribution.ravel(), np.array(EXPECTED[(0, "vanilla")], dtype=np.float32) * nets.X.flatten().numpy())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: vc.backprop(m, nets.X, 0, rule="smooth"), "Unknown backprop rule"),
        (lambda m: vc.backprop(m, nets.X, 5), "out of range"),
        (lambda m: vc.backprop(m, nets.X, vc.unit("2", 9)), "out of range"),
        (lambda m: vc.backprop(m, nets.X, vc.unit("nope", 0)), "no layer called"),
        (lambda m: vc.backprop(m, torch.zeros(1, 3, 2, 2), 0), "not one normalised image"),
        (lambda m: vc.backprop(m, torch.full((1, 1, 2, 2), float("nan")), 0), "NaN"),
        (lambda m: vc.backprop(m, b"not an image", 0), "not an image"),
    ],
)
def test_bad_inputs_give_clear_messages(call, message: str) -> None:
    with pytest.raises(vc.ConvlensError, match=message):
        call(nets.relu_net())


def test_a_score_that_ignores_the_image_has_a_zero_gradient() -> None:
    m = nets.region_model()
    result = vc.backprop(m, np.ones((32, 32, 3), dtype=np.float32), 1)  # logit 1 is the constant 5
    assert result.score == 5.0 and not result.attribution.any()


def test_a_rule_may_be_a_function() -> None:
    """A user's own rule: here 'pass the gradient through unchanged', which makes every ReLU the identity."""
    m = nets.relu_net()

    def straight_through(module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
        return grad_out

    result = vc.backprop(m, nets.X, 0, rule=straight_through)
    w1, w2, w3 = (torch.tensor(w) for w in (nets.W1, nets.W2, nets.W3))
    np.testing.assert_allclose(result.attribution.ravel(), (w3[0] @ w2 @ w1).numpy(), rtol=1e-6)
    assert result.rule == "straight_through" and result.rule_applied == 2
    with pytest.raises(vc.SettingsError, match="Unknown backprop rule"):
        vc.backprop(m, nets.X, 0, rule="lrp")
