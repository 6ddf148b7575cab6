"""The linear explanation of adversarial examples, checked against its closed form."""
from __future__ import annotations

import numpy as np
import pytest

import viz_core as vc
from viz_core import linear_toy as toy


def test_lecture_example_numbers() -> None:
    """The lecture's example: score -3 -> 2 with ε = 0.5, probability 4.7% -> 88.1%."""
    x, w, b = toy.lecture_example()
    result = toy.linear_fool(x, w, toy.LECTURE_EPS, b)
    assert result.score_before == pytest.approx(-3.0)
    assert result.score_after == pytest.approx(2.0)
    assert result.prob_before == pytest.approx(1 / (1 + np.exp(3.0)))
    assert result.prob_after == pytest.approx(1 / (1 + np.exp(-2.0)))
    np.testing.assert_array_equal(result.x_adv, [1.5, -1.5, 3.5, -2.5, 2.5, 1.5, 1.5, -3.5, 4.5, 1.5])


@pytest.mark.parametrize("eps", [0.0, 0.01, 0.5, 3.0, -0.25])
@pytest.mark.parametrize("dim", [1, 10, 1000])
def test_score_change_is_eps_times_l1_norm(eps: float, dim: int) -> None:
    rng = np.random.default_rng(dim)
    x, w, b = rng.standard_normal(dim), rng.standard_normal(dim), float(rng.standard_normal())
    w[0] = 0.0  # a zero weight leaves its element unmoved and adds nothing
    result = toy.linear_fool(x, w, eps, b)
    assert result.score_after - result.score_before == pytest.approx(eps * np.abs(w).sum(), rel=1e-12, abs=1e-12)
    assert result.predicted_gain == pytest.approx(eps * np.abs(w).sum())
    assert np.abs(result.delta).max() <= abs(eps)
    assert result.delta[0] == 0.0


def test_sign_step_is_the_best_step_in_the_box() -> None:
    """No other perturbation with |δ_i| ≤ ε raises the score more (that is why sign(w) is used)."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(50), rng.standard_normal(50)
    best = toy.linear_fool(x, w, 0.1).score_after
    for _ in range(200):
        other = x + rng.uniform(-0.1, 0.1, 50)
        assert w @ other <= best + 1e-12


def test_linear_fool_rejects_bad_input() -> None:
    with pytest.raises(vc.TargetError):
        toy.linear_fool(np.ones(3), np.ones(4))
    with pytest.raises(vc.TargetError):
        toy.linear_fool(np.array([np.nan]), np.ones(1))


def test_sigmoid_is_stable() -> None:
    assert toy.sigmoid(1000.0) == pytest.approx(1.0)
    assert toy.sigmoid(-1000.0) == pytest.approx(0.0)
    assert toy.sigmoid(0.0) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def digits() -> toy.DigitsClassifier:
    return toy.digits_classifier()


def test_digits_classifier_learns(digits: toy.DigitsClassifier) -> None:
    assert digits.weights.shape == (10, 64) and digits.bias.shape == (10,)
    assert digits.accuracy > 0.93
    assert toy.digits_classifier() is digits  # trained once


def test_digit_margin_grows_exactly_without_clipping(digits: toy.DigitsClassifier) -> None:
    result = toy.fool_digit(digits, 0, target=(digits.test_labels[0] + 1) % 10, eps=0.05, clip=False)
    direction = digits.weights[result.target_class] - digits.weights[result.source]
    assert result.margin_gain == pytest.approx(0.05 * np.abs(direction).sum(), rel=1e-10)
    assert result.margin_gain == pytest.approx(result.predicted_gain, rel=1e-10)
    assert np.abs(result.perturbation).max() == pytest.approx(0.05)


def test_digit_fooling_with_clipping(digits: toy.DigitsClassifier) -> None:
    index = 3
    target = int((digits.test_labels[index] + 5) % 10)
    eps = toy.digit_min_epsilon(digits, index, target)
    assert eps is not None and 0 < eps < 0.5
    fooled = toy.fool_digit(digits, index, target, eps)
    assert fooled.fooled and int(np.argmax(fooled.probs_after)) == target
    assert not toy.fool_digit(digits, index, target, max(eps - 0.01, 0.0)).fooled or eps <= 0.01
    assert fooled.adversarial.min() >= 0.0 and fooled.adversarial.max() <= 1.0
    assert np.abs(fooled.perturbation).max() <= eps + 1e-12
    assert 0 < fooled.margin_gain <= fooled.predicted_gain + 1e-12  # clipping can only lose gain
    assert fooled.image.shape == fooled.adversarial.shape == (8, 8)
    np.testing.assert_allclose(fooled.probs_before.sum(), 1.0)


def test_digit_errors(digits: toy.DigitsClassifier) -> None:
    with pytest.raises(vc.TargetError):
        toy.fool_digit(digits, 10_000, 1)
    with pytest.raises(vc.TargetError):
        toy.fool_digit(digits, 0, 10)
    with pytest.raises(vc.TargetError):
        toy.fool_digit(digits, 0, 1, eps=-0.1)


def test_dimension_gain_grows_linearly_against_square_root() -> None:
    gain = toy.dimension_gain([100, 10_000], eps=0.01, trials=200)
    aligned_growth = gain.aligned[1] / gain.aligned[0]
    random_growth = gain.random[1] / gain.random[0]
    assert aligned_growth == pytest.approx(100, rel=0.05)  # ∝ d
    assert random_growth == pytest.approx(10, rel=0.15)  # ∝ √d
    assert gain.aligned[0] == pytest.approx(0.01 * 100 * np.sqrt(2 / np.pi), rel=0.05)  # E|N(0,1)| = √(2/π)
