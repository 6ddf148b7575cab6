"""Deletion and insertion curves against a net whose output depends on known pixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core.attribution.faithfulness import method_maps, unit_ranks
from viz_core.images import gaussian_blur

from . import nets

SIDE = 8
GRAY = {"input_size": (1, SIDE, SIDE), "mean": (0.0,), "std": (1.0,), "crop_pct": 1.0, "interpolation": "bilinear"}
RNG = np.random.default_rng(0)
WEIGHTS = torch.tensor(RNG.permutation(SIDE * SIDE) + 1.0, dtype=torch.float32) / 16  # distinct, positive: 1/16 .. 4
X = torch.tensor(RNG.uniform(0.2, 1.0, (1, 1, SIDE, SIDE)), dtype=torch.float32)
BIAS = -20.0


def linear_net() -> vc.LoadedModel:
    """logit 0 = w · x + BIAS, logit 1 = 0: p(class 0) = sigmoid(w · x + BIAS); pixel p adds w_p x_p."""
    layer = nn.Linear(SIDE * SIDE, 2)
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0] = WEIGHTS
        layer.bias.copy_(torch.tensor([BIAS, 0.0]))
    return vc.LoadedModel.from_module(nn.Sequential(nn.Flatten(), layer), name="linear", data_config=GRAY, class_names=["evidence", "none"])


def probability(m: vc.LoadedModel, x: torch.Tensor) -> float:
    with torch.inference_mode():
        return float(torch.softmax(m.model(x), dim=-1)[0, 0])


def true_importance() -> np.ndarray:
    """Each pixel's exact share of the logit: w_p x_p (removing it to the mean 0 takes exactly that away)."""
    return (WEIGHTS.reshape(SIDE, SIDE) * X[0, 0]).numpy()


def test_true_importance_order_has_the_best_deletion_area_and_random_is_worse() -> None:
    m = linear_net()
    truth = true_importance()
    reverse = -truth
    result = vc.deletion_insertion(m, X, 0, {"truth": truth, "reverse": reverse}, step=1 / 16, seed=3)
    d_truth, d_reverse = result.deletion_area
    assert d_truth < result.random_deletion_area < d_reverse
    # removing the largest shares first is optimal at every point, so no method's order does better
    methods = vc.faithfulness(m, X, 0, step=1 / 16, seed=3)
    assert d_truth <= methods.deletion_area.min() + 1e-9
    np.testing.assert_array_less(result.deletion[0] - 1e-9, result.random_deletion)
    # gradient × input is exactly the true share on a linear net with mean-zero normalisation
    k = methods.methods.index("gradient_x_input")
    np.testing.assert_allclose(methods.deletion[k], result.deletion[0], atol=1e-7)
    table = methods.table()
    assert table[-1]["method"] == "random order" and [row["rank"] for row in table[:-1]] == list(range(1, len(methods.methods) + 1))


def test_endpoints_and_one_point_by_hand() -> None:
    m = linear_net()
    truth = true_importance()
    result = vc.deletion_insertion(m, X, 0, {"truth": truth}, step=0.25, baseline="mean")
    original = probability(m, X)
    blurred = probability(m, gaussian_blur(X, SIDE / 22))
    assert result.score == pytest.approx(original, abs=1e-6)
    np.testing.assert_allclose(result.fractions, [0, 0.25, 0.5, 0.75, 1.0])
    for curve in (result.deletion[0], result.random_deletion):
        assert curve[0] == pytest.approx(original, abs=1e-6)
        assert curve[-1] == pytest.approx(1 / (1 + np.exp(-BIAS)), abs=1e-6)  # everything removed: only the bias
    for curve in (result.insertion[0], result.random_insertion):
        assert curve[0] == pytest.approx(blurred, abs=1e-6)
        assert curve[-1] == pytest.approx(original, abs=1e-6)
    # at 25 %, the 16 largest shares are gone
    kept = np.sort(truth.ravel())[::-1][16:].sum()
    assert result.deletion[0, 1] == pytest.approx(1 / (1 + np.exp(-(kept + BIAS))), rel=1e-5)
    assert result.deletion_area[0] == pytest.approx(np.trapezoid(result.deletion[0], result.fractions))


def test_black_and_blurred_deletion_baselines() -> None:
    m = linear_net()
    truth = true_importance()
    for baseline, end in (("black", torch.full_like(X, 0.0)), ("blurred", gaussian_blur(X, 2.0))):
        result = vc.deletion_insertion(m, X, 0, {"truth": truth}, step=0.5, baseline=baseline, blur_sigma=2.0)
        assert result.deletion[0, -1] == pytest.approx(probability(m, end), abs=1e-6)


def test_patches_rank_whole_squares_and_batches_do_not_change_curves() -> None:
    values = np.arange(16, dtype=np.float64).reshape(4, 4)
    ranks, count = unit_ranks(values, 2)
    assert count == 4
    np.testing.assert_array_equal(ranks, [[3, 3, 2, 2], [3, 3, 2, 2], [1, 1, 0, 0], [1, 1, 0, 0]])
    ranks, count = unit_ranks(np.ones((5, 5)), 2)  # ties keep reading order; edge patches are smaller
    assert count == 9 and ranks[4, 4] == 8 and ranks[0, 0] == 0
    m = linear_net()
    maps = {"truth": true_importance()}
    one = vc.deletion_insertion(m, X, 0, maps, step=0.125, patch=2, batch_size=1)
    many = vc.deletion_insertion(m, X, 0, maps, step=0.125, patch=2, batch_size=32)
    np.testing.assert_allclose(one.deletion, many.deletion, atol=1e-7)
    np.testing.assert_allclose(one.random_insertion, many.random_insertion, atol=1e-7)
    assert one.params["units"] == 16


def test_every_method_runs_on_a_cnn_and_leaves_the_model_alone() -> None:
    m = nets.tiny_cnn()
    before = {k: v.clone() for k, v in m.model.state_dict().items()}
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    seen: list[float] = []
    result = vc.faithfulness(m, x, 1, step=0.25, on_step=lambda info: seen.append(info.fraction))
    assert result.methods == vc.TRUST_METHODS and result.maps.shape == (10, 16, 16)
    assert result.deletion.shape == result.insertion.shape == (10, 5)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert all(torch.equal(before[k], v) for k, v in m.model.state_dict().items())
    assert all(p.grad is None for p in m.model.parameters())
    assert result.params["target"] == {"kind": "class", "index": 1, "probability": False} and "probability" in result.target


def test_maps_are_the_saliency_pages_maps() -> None:
    m = nets.tiny_cnn()
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    maps, skipped = method_maps(m, x, vc.as_target(0, m), vc.TRUST_METHODS)
    assert skipped == {}
    np.testing.assert_allclose(maps["vanilla"], vc.backprop(m, x, 0).map, rtol=1e-6)
    np.testing.assert_allclose(maps["saliency"], vc.backprop(m, x, 0).saliency, rtol=1e-6)
    np.testing.assert_allclose(maps["guided_grad_cam"], vc.guided_grad_cam(m, x, 0, layer="features").map, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(maps["gradient_x_input"], vc.gradient_x_input(m, x, 0).map, rtol=1e-5, atol=1e-8)


def test_a_rule_with_nothing_to_act_on_is_left_out_with_the_reason() -> None:
    m = nets.functional_net()
    result = vc.faithfulness(m, nets.X, 0, methods=("vanilla", "guided", "deconvnet"), step=0.25)
    assert result.methods == ("vanilla",)
    assert any("guided" in note and "plain gradient" in note for note in result.notes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"step": 0}, "step"), ({"step": 0.9}, "step"), ({"patch": 99}, "patch"), ({"baseline": "pink"}, "baseline"), ({"modes": ("sideways",)}, "Modes")],
)
def test_bad_settings_say_what_is_valid(kwargs: dict, match: str) -> None:
    with pytest.raises(vc.SettingsError, match=match):
        vc.deletion_insertion(linear_net(), X, 0, {"truth": true_importance()}, **kwargs)


def test_bad_maps_and_methods_say_what_is_valid() -> None:
    with pytest.raises(vc.SettingsError, match="8×8"):
        vc.deletion_insertion(linear_net(), X, 0, {"small": np.zeros((4, 4))})
    with pytest.raises(vc.SettingsError, match="Use any of"):
        vc.faithfulness(linear_net(), X, 0, methods=("lime",))


def test_collection_summary_means_and_intervals() -> None:
    m = vc.load_model("digits_cnn")
    seen: list[float] = []
    summary = vc.faithfulness_summary(m, "digits", images=4, methods=("vanilla", "saliency", "occlusion"), step=0.25, on_step=lambda i: seen.append(i.fraction))
    assert summary.deletion_area.shape == (4, 3) and summary.random_deletion_area.shape == (4,)
    assert seen[-1] == 1.0 and len(summary.names) == 4
    mean, low, high = summary.interval(summary.insertion_area[:, 0])
    assert mean == pytest.approx(summary.insertion_area[:, 0].mean()) and low < mean < high
    rows = summary.table()
    assert {row["method"] for row in rows} == {"vanilla", "saliency", "occlusion", "random order"}
    assert summary.mean_deletion.shape == (3, 5)
    np.testing.assert_allclose(np.trapezoid(summary.mean_deletion, summary.fractions, axis=-1), summary.deletion_area.mean(0), rtol=1e-6)
    assert isinstance(vc.figures.figure(summary), object)


def test_collection_summary_is_reused_from_the_store_and_invalidated_by_weights_and_settings(tmp_path: Path) -> None:
    m = vc.load_model("digits_cnn")
    store = vc.Store(tmp_path / "store")
    kwargs = {"images": 3, "methods": ("vanilla", "saliency"), "step": 0.25, "store": store}
    assert vc.stored_faithfulness_summary(m, "digits", **{k: v for k, v in kwargs.items() if k != "store"}, store=store) is None
    first = vc.faithfulness_summary(m, "digits", **kwargs)
    assert not first.from_store and [e.kind for e in store.entries()] == ["faithfulness_summary"]

    scored: list[str] = []
    again = vc.faithfulness_summary(m, "digits", **kwargs, on_step=lambda info: scored.append(info.message))
    assert again.from_store and scored == ["3 images read from the results store"]
    for name in ("deletion_area", "insertion_area", "random_deletion_area", "random_insertion_area", "mean_deletion", "mean_insertion", "fractions"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert again.names == first.names and again.targets == first.targets and again.table() == first.table()
    looked_up = vc.stored_faithfulness_summary(m, "digits", images=3, methods=("vanilla", "saliency"), step=0.25, store=store)
    assert looked_up is not None and looked_up.from_store

    assert not vc.faithfulness_summary(m, "digits", **{**kwargs, "step": 0.5}).from_store  # other settings: another entry
    changed = vc.load_model("digits_cnn")
    with torch.no_grad():
        next(changed.model.parameters()).view(-1)[0] += 1e-3  # one weight is enough
    assert not vc.faithfulness_summary(changed, "digits", **kwargs).from_store
    assert len(store.entries()) == 3


def test_a_cancelled_collection_summary_stores_nothing(tmp_path: Path) -> None:
    m = vc.load_model("digits_cnn")
    store = vc.Store(tmp_path / "store")

    def stop_on_second_image(info: vc.StepInfo) -> None:
        if info.step == 1:
            raise vc.Cancelled()

    with pytest.raises(vc.Cancelled):
        vc.faithfulness_summary(m, "digits", images=3, methods=("vanilla",), step=0.25, store=store, on_step=stop_on_second_image)
    assert store.entries() == [] and not any((tmp_path / "store" / "staging").iterdir())
