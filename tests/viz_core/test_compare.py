"""Comparisons checked against their definitions: Spearman's ρ, linear CKA (Kornblith et al., 2019)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

import viz_core as vc


@pytest.fixture(scope="module")
def digits() -> vc.LoadedModel:
    return vc.load_model("digits_cnn")


def feature_space_cka(x: np.ndarray, y: np.ndarray) -> float:
    """The paper's feature-space form, ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on centred columns."""
    x, y = x - x.mean(0), y - y.mean(0)
    return float(np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def test_linear_cka_matches_its_definition_and_invariances() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 12))
    y = x @ rng.normal(size=(12, 7)) + 0.5 * rng.normal(size=(40, 7))
    assert vc.linear_cka(x, y) == pytest.approx(feature_space_cka(x, y), rel=1e-10)
    assert vc.linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    assert vc.linear_cka(x @ q, y) == pytest.approx(vc.linear_cka(x, y), abs=1e-12)  # orthogonal transform
    assert vc.linear_cka(3.7 * x, y) == pytest.approx(vc.linear_cka(x, y), abs=1e-12)  # isotropic scaling
    assert vc.linear_cka(x + 5.0, y) == pytest.approx(vc.linear_cka(x, y), abs=1e-12)  # a shift (centring)
    stretched = x * np.r_[10.0, np.ones(11)]
    assert abs(vc.linear_cka(stretched, y) - vc.linear_cka(x, y)) > 1e-3  # not invariant to anisotropic scaling
    assert vc.linear_cka(x, rng.normal(size=(40, 12))) < vc.linear_cka(x, y)
    with pytest.raises(vc.SettingsError, match="same N"):
        vc.linear_cka(x, y[:10])


def test_spearman_is_the_rank_correlation() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(9, 9))
    b = a + rng.normal(size=(9, 9))
    assert vc.spearman(a, b) == pytest.approx(spearmanr(a.ravel(), b.ravel()).statistic, abs=1e-12)
    assert vc.spearman(a, np.exp(a)) == pytest.approx(1.0)  # any increasing map: ρ = 1
    assert vc.spearman(a, -a) == pytest.approx(-1.0)
    assert np.isnan(vc.spearman(a, np.zeros_like(a)))
    big = np.kron(a, np.ones((4, 4)))  # the same map at 4x the size
    assert vc.spearman(big, a) == pytest.approx(1.0, abs=1e-9)


def test_compare_maps_on_one_scale_with_differences(digits: vc.LoadedModel) -> None:
    digit = vc.collection("digits").load(5)
    vanilla, guided = vc.backprop(digits, digit, 5), vc.backprop(digits, digit, 5, rule="guided")
    cam = vc.grad_cam(digits, digit, 5)
    result = vc.compare_maps({"vanilla": vanilla, "guided": guided, "cam": cam})
    assert result.signed and result.correlation.shape == (3, 3)
    np.testing.assert_allclose(result.correlation, result.correlation.T)
    assert result.correlation[0, 1] == pytest.approx(vc.spearman(vanilla.map, guided.map))
    assert all(np.abs(m).max() <= 1.0 for m in result.maps.values())
    np.testing.assert_allclose(result.differences[("vanilla", "guided")], result.maps["vanilla"] - result.maps["guided"])
    assert vc.figures.figure(result).data  # drawn by the registry
    with pytest.raises(vc.SettingsError, match="two"):
        vc.compare_maps({"one": cam})


def test_cka_of_a_model_with_itself(digits: vc.LoadedModel) -> None:
    layers = list(digits.stages)
    result = vc.cka(digits, digits, "digits", limit=64)
    assert result.layers_a == result.layers_b == tuple(layers)
    np.testing.assert_allclose(np.diag(result.cka), 1.0, atol=1e-9)
    np.testing.assert_allclose(result.cka, result.cka.T, atol=1e-12)
    assert ((0 <= result.cka) & (result.cka <= 1 + 1e-9)).all()
    assert result.coords_a.shape == (len(layers), 64, 2) and result.labels.shape == (64,)
    assert vc.figures.figure(result).data and vc.figures.embedding_pair(result, 0, 1, selected=[0, 3]).data
    assert vc.relative_layer(digits, 0.0) == layers[0] and vc.relative_layer(digits, 1.0) in layers
