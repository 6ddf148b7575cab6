"""Figures of an evaluation and of a contrast: what each chart selects is what it shows."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

import viz_core as vc
from viz_core import figures

CONFIG = {"input_size": (1, 8, 8), "mean": (0.5,), "std": (0.5,), "crop_pct": 1.0, "interpolation": "bilinear"}


@pytest.fixture(scope="module")
def ev() -> vc.Evaluation:
    """A fixed random linear model on 200 digits: many mistakes, every class involved."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    m = vc.LoadedModel.from_module(module, data_config=CONFIG, class_names=[str(d) for d in range(10)])
    return vc.evaluate(m, vc.collection("digits").subset(np.arange(200)), batch_size=50)


def test_confusion_cells_carry_their_classes_and_counts(ev: vc.Evaluation) -> None:
    fig = figures.figure(ev)  # the registered figure of an Evaluation is its confusion matrix
    heat, cells = fig.data
    assert heat.type == "heatmap" and cells.type == "scatter"
    n = len(ev.classes)
    data = np.asarray(cells.customdata)
    assert data.shape == (n * n, 3)
    for t, p, count in data:
        assert count == ev.confusion[list(ev.classes).index(t), list(ev.classes).index(p)]
    shares = np.asarray(heat.z)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)  # each true class's row adds up


def test_a_sub_matrix_shows_only_the_chosen_classes(ev: vc.Evaluation) -> None:
    chosen = vc.confused_classes(ev, 2)
    fig = figures.confusion_figure(ev, chosen)
    data = np.asarray(fig.data[1].customdata)
    assert set(data[:, 0]) == set(chosen) and len(data) == len(chosen) ** 2
    assert f"{len(chosen)} of {len(ev.classes)} classes" in fig.layout.title.text


def test_pairs_reliability_and_confidence(ev: vc.Evaluation) -> None:
    pairs = figures.figure(ev, view="pairs").data[0]
    np.testing.assert_array_equal(np.asarray(pairs.customdata)[::-1], ev.confused_pairs[:15])
    reliability = figures.figure(ev, view="reliability")
    assert f"{ev.ece:.1%}" in reliability.layout.title.text
    right, wrong = figures.figure(ev, view="confidence").data
    assert sum(right.text) == ev.correct.sum() and sum(wrong.text) == (ev.matched & ~ev.correct).sum()
    np.testing.assert_allclose(sum(wrong.y), 1.0)
    low_high = np.asarray(wrong.customdata)[:, 1:]
    assert low_high[0].tolist() == [0.0, 0.05] and all(np.asarray(wrong.customdata)[:, 0] == 0)
    with pytest.raises(ValueError, match="Unknown view"):
        figures.figure(ev, view="pie")


def test_contrast_figure_puts_both_classes_on_one_scale() -> None:
    from tests.viz_core.attribution import nets

    m = nets.tiny_cnn()
    result = vc.contrast(m, torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(1)), 2, 0, layer="features", patch=4, stride=4)
    fig = figures.figure(result)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[1:4] == ["Grad-CAM: c", "Grad-CAM: a", "Grad-CAM: c − a"] and titles[-2:] == ["occlusion: drop of p(c)", "occlusion: drop of p(a)"]
    axes = {}
    for trace in fig.data:
        if trace.type == "heatmap":
            axes.setdefault(trace.coloraxis, []).append(trace)
    assert [len(axes[k]) for k in ("coloraxis", "coloraxis2", "coloraxis3", "coloraxis4")] == [3, 2, 1, 2]
    top = max(float(np.max(c.upsampled)) for c in result.cams)
    assert fig.layout.coloraxis.cmax == pytest.approx(top) and fig.layout.coloraxis2.cmin == -fig.layout.coloraxis2.cmax
    without = figures.figure(replace(result, occlusions=()))
    assert "occlusion" not in " ".join(a.text for a in without.layout.annotations)
