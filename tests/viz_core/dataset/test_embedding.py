"""Features, projections (shape, seed reproducibility), neighbours and the mosaic."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc


@pytest.fixture(scope="module")
def digit_features(digits: vc.LoadedModel) -> vc.results.Features:
    return vc.features(digits, "digits", limit=300, seed=1)


def test_features_are_the_penultimate_code_of_a_seeded_sample(digits: vc.LoadedModel, digit_features) -> None:
    f = digit_features
    c = vc.collection("digits")
    assert f.values.shape == (300, 64) and f.values.dtype == np.float32 and f.layer == "pre_logits"
    _, chosen = c.sample(300, seed=1)
    np.testing.assert_array_equal(f.indices, chosen)
    np.testing.assert_array_equal(f.labels, c.labels[chosen])
    x = torch.cat([digits.preprocess(c.load(int(i))) for i in chosen[:20]])
    with torch.inference_mode():
        expected = digits.model.forward_head(digits.model.forward_features(x), pre_logits=True).numpy()
    np.testing.assert_allclose(f.values[:20], expected, rtol=1e-4, atol=1e-5)
    assert (f.predicted == f.labels).mean() > 0.95  # the trained demo recognises its digits
    assert f.thumbnails.shape == (300, 48, 48, 3) and f.thumbnails.dtype == np.uint8


def test_layer_features_are_pooled_or_flattened(digits: vc.LoadedModel) -> None:
    c = vc.collection("digits").subset(np.arange(16))
    avg = vc.features(digits, c, "act3")
    flat = vc.features(digits, c, "act3", pool="flatten", dtype="float16")
    assert avg.values.shape == (16, 64) and flat.values.shape == (16, 64 * 8 * 8) and flat.values.dtype == np.float16
    np.testing.assert_allclose(flat.values.astype(np.float32).reshape(16, 64, 64).mean(-1), avg.values, rtol=1e-2, atol=1e-2)


def test_vit_features_are_pre_logits(random_vit: vc.LoadedModel) -> None:
    f = vc.features(random_vit, vc.collection("photos").subset(np.arange(6)), thumbnail=16)
    assert f.values.shape == (6, 192)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_projection_shape_and_seed(method: str, digit_features) -> None:
    a = vc.project(digit_features, method, seed=0)
    b = vc.project(digit_features, method, seed=0)
    assert a.coords.shape == (300, 2) and np.isfinite(a.coords).all()
    np.testing.assert_allclose(a.coords, b.coords, rtol=1e-5, atol=1e-5)
    assert a.params["method"] == method


@pytest.mark.slow
def test_umap_projection_is_reproducible_with_a_seed(digit_features) -> None:
    vc.warm_umap()
    a = vc.project(digit_features.values[:120], "umap", seed=3, n_neighbors=10)
    b = vc.project(digit_features.values[:120], "umap", seed=3, n_neighbors=10)
    assert a.coords.shape == (120, 2)
    np.testing.assert_allclose(a.coords, b.coords, rtol=1e-4, atol=1e-4)


def test_projections_separate_digit_classes(digit_features) -> None:
    """On the trained demo, a point's nearest neighbour on the t-SNE map mostly has its label."""
    coords = vc.project(digit_features, "tsne", seed=0).coords
    distance = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(distance, np.inf)
    nearest = distance.argmin(1)
    assert (digit_features.labels[nearest] == digit_features.labels).mean() > 0.9


def test_projection_errors() -> None:
    with pytest.raises(vc.SettingsError, match="Unknown projection"):
        vc.project(np.zeros((10, 3)), "mds")
    with pytest.raises(vc.DatasetError, match="at least 3"):
        vc.project(np.zeros((2, 3)), "pca")
    with pytest.raises(vc.DatasetError, match="NaN"):
        vc.project(np.full((5, 3), np.nan), "pca")


def test_neighbours_in_feature_and_pixel_space(digit_features) -> None:
    f = digit_features
    near = vc.neighbours(f, 5, k=6)
    assert near.space == "features" and near.metric == "cosine" and 5 not in near.indices
    assert np.all(np.diff(near.distances) >= 0)
    v = f.values.astype(np.float64)
    cosine = 1 - v @ v[5] / (np.linalg.norm(v, axis=1) * np.linalg.norm(v[5]))
    cosine[5] = np.inf
    np.testing.assert_array_equal(near.indices, np.argsort(cosine, kind="stable")[:6])
    pixels = vc.neighbours(f, 5, k=6, space="pixels")
    flat = f.thumbnails.reshape(len(f.thumbnails), -1) / 255.0
    expected = np.linalg.norm(flat - flat[5], axis=1)
    expected[5] = np.inf
    np.testing.assert_allclose(pixels.distances, np.sort(expected)[:6], rtol=1e-4)
    with pytest.raises(vc.DatasetError):
        vc.neighbours(f, 10_000)


def test_mosaic_puts_each_cell_nearest_image_in_place() -> None:
    coords = np.array([[0.0, 0.0], [1.0, 1.0], [0.05, 0.05], [1.0, 0.0]])
    thumbs = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 20, 30, 40)])
    picture = vc.mosaic(coords, thumbs, grid=2)
    assert picture.shape == (8, 8, 3)
    assert picture[4, 0, 0] == 30  # bottom-left cell: point 2 is nearer its centre (0.25, 0.25) than point 0
    assert picture[0, 4, 0] == 20 and picture[4, 4, 0] == 40 and picture[0, 0, 0] == 255
