"""The streaming pass: top-k against brute force, features against forward_head, hooks, cancellation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import viz_core as vc
from viz_core.dataset.embedding import FeatureCollector
from viz_core.dataset.patches import TopK
from viz_core.hooks import capture, count_hooks
from viz_core.results import Cancelled, StepInfo


@pytest.fixture(scope="module")
def small_photos() -> vc.Collection:
    return vc.collection("photos").subset(np.arange(0, 300, 13))  # 24 crops of every photo


def brute_force(m: vc.LoadedModel, c: vc.Collection, layer: str) -> np.ndarray:
    """Per image, per channel: the maximum over positions, one image at a time."""
    rows = []
    for i in range(len(c)):
        with torch.inference_mode(), capture(m.model, [layer]) as store:
            m.model(m.preprocess(c.load(i)))
        rows.append(store[layer][0].flatten(1).max(dim=1).values.numpy())
    return np.stack(rows)  # N, C


def test_top_k_equals_brute_force(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    layer, k = "layer2", 5
    expected = brute_force(random_cnn, small_photos, layer)
    top = TopK(layer, k)
    info = vc.scan(random_cnn, small_photos, [top], batch_size=5)  # uneven last batch
    assert info.images == len(small_photos)
    order = np.argsort(-expected, axis=0, kind="stable")[:k]  # k, C
    np.testing.assert_allclose(top.values.numpy(), np.take_along_axis(expected, order, 0), rtol=1e-4, atol=1e-5)
    # each kept image really has that value (ties, e.g. channels that are 0 everywhere, may pick any image)
    np.testing.assert_allclose(np.take_along_axis(expected, top.images.numpy(), 0), top.values.numpy(), rtol=1e-4, atol=1e-5)
    distinct = (expected > 0).sum(axis=0) > k  # channels with more than k non-zero responses: no ties expected
    np.testing.assert_array_equal(top.images.numpy()[:, distinct], order[:, distinct])
    np.testing.assert_allclose(top.variance(), expected.astype(np.float64).var(axis=0), rtol=1e-3, atol=1e-6)


def test_top_k_on_chosen_channels_and_token_layers(random_vit: vc.LoadedModel, small_photos: vc.Collection) -> None:
    top = TopK("blocks.1", 3, channels=[4, 0])
    vc.scan(random_vit, small_photos, [top], batch_size=8)
    rows = []
    for i in range(len(small_photos)):
        with torch.inference_mode(), capture(random_vit.model, ["blocks.1"]) as store:
            random_vit.model(random_vit.preprocess(small_photos.load(i)))
        rows.append(store["blocks.1"][0, 1:, [4, 0]].max(dim=0).values.numpy())  # patch tokens only
    expected = np.sort(np.stack(rows), axis=0)[::-1][:3]
    np.testing.assert_allclose(top.values.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert int(top.positions.max()) < 16  # a position on the 4x4 patch grid


def test_features_equal_forward_head_pre_logits(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    collector = FeatureCollector()
    vc.scan(random_cnn, small_photos, [collector], batch_size=7)
    x = torch.cat([random_cnn.preprocess(small_photos.load(i)) for i in range(len(small_photos))])
    with torch.inference_mode():
        trunk = random_cnn.model.forward_features(x)
        expected = random_cnn.model.forward_head(trunk, pre_logits=True).numpy()
        logits = random_cnn.model(x)
    np.testing.assert_allclose(np.concatenate(collector.values), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(np.concatenate(collector.predicted), logits.argmax(1).numpy())


def test_scan_reports_progress_and_leaves_no_hooks(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    before = count_hooks(random_cnn.model)
    steps: list[StepInfo] = []
    vc.scan(random_cnn, small_photos, [TopK("layer1", 2), FeatureCollector("layer3")], batch_size=10, on_step=steps.append)
    assert count_hooks(random_cnn.model) == before
    assert steps[0].fraction == 0.0 and steps[-1].fraction == 1.0
    assert [s.fraction for s in steps] == sorted(s.fraction for s in steps)


def test_cancel_stops_the_scan_and_removes_hooks(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    seen = []

    def stop(info: StepInfo) -> None:
        seen.append(info.fraction)
        if info.fraction > 0.3:
            raise Cancelled()

    before = count_hooks(random_cnn.model)
    with pytest.raises(Cancelled):
        vc.scan(random_cnn, small_photos, [TopK("layer1", 2)], batch_size=4, on_step=stop)
    assert count_hooks(random_cnn.model) == before and max(seen) < 1.0


def test_scan_does_not_change_the_model(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    state = {k: v.clone() for k, v in random_cnn.model.state_dict().items()}
    vc.scan(random_cnn, small_photos, [FeatureCollector()], batch_size=8)
    assert not random_cnn.model.training
    assert all(torch.equal(state[k], v) for k, v in random_cnn.model.state_dict().items())
    assert all(p.grad is None and not p.requires_grad for p in random_cnn.model.parameters())


def test_undecodable_images_are_skipped_and_counted(random_cnn: vc.LoadedModel, tmp_path) -> None:
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (20, 20), (i * 80, 0, 0)).save(tmp_path / f"{i}.png")
    (tmp_path / "3.png").write_bytes(b"not really a png")
    collector = FeatureCollector()
    info = vc.scan(random_cnn, str(tmp_path), [collector], batch_size=2)
    assert info.images == 3 and len(info.skipped) == 1 and "3.png" in info.skipped[0]
    assert np.concatenate(collector.indices).tolist() == [0, 1, 2]


def test_unknown_layer_is_a_layer_error(random_cnn: vc.LoadedModel, small_photos: vc.Collection) -> None:
    with pytest.raises(vc.LayerError, match="no layer called"):
        vc.scan(random_cnn, small_photos, [TopK("layer9", 2)])
