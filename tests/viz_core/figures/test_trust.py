"""Trust figures: curves per method with the random floor, interval bars, the randomisation grid."""
from __future__ import annotations

import numpy as np

from viz_core import figures

from .samples import assert_image_axes, faithfulness, faithfulness_summary, sanity


def test_curves_one_colour_per_method_and_a_dashed_floor() -> None:
    fig = figures.figure(faithfulness())
    assert len(fig.data) == 2 * 2 + 2
    names = [trace.name for trace in fig.data if trace.showlegend is not False]
    assert names == ["Grad-CAM", "vanilla gradient", "random order"]
    floor = [trace for trace in fig.data if trace.name == "random order"]
    assert all(trace.line.dash == "dash" for trace in floor)
    assert fig.data[0].line.color == fig.data[1].line.color == figures.method_colour("grad_cam")
    assert list(fig.data[0].x) == [0, 25, 50, 75, 100]


def test_summary_bars_carry_95_percent_intervals_over_finite_values() -> None:
    result = faithfulness_summary()
    fig = figures.figure(result)
    deletion = fig.data[0]
    assert list(deletion.x) == [np.mean([0.2, 0.3, 0.25]), np.mean([0.4, 0.5])]
    mean, low, high = result.interval(result.deletion_area[:, 0])
    assert deletion.error_x.array[0] == high - mean and deletion.error_x.arrayminus[0] == mean - low


def test_sanity_curves_mark_insensitive_methods_and_the_grid_shows_every_stage() -> None:
    result = sanity()
    fig = figures.figure(result)
    assert len(fig.data) == 4 * 2
    assert fig.data[0].name == "guided backprop (insensitive)" and fig.data[0].line.dash == "dot"
    assert list(fig.data[0].x) == ["original", "fc", "conv1"]
    grid = figures.sanity_grid(result)
    assert len(grid.data) == 3 * 2
    assert_image_axes(grid)
    assert grid.data[0].z.max() <= 1.0 and grid.data[0].z.min() >= 0.0
    assert any("⚠" in a.text for a in grid.layout.annotations)
