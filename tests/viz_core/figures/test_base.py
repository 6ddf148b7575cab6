"""Building blocks: images keep their aspect ratio in every panel, overlays line up with pixels."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from viz_core import figures

from .samples import H, W, assert_image_axes, picture


def test_image_keeps_its_aspect_ratio_without_ticks() -> None:
    fig = figures.image(picture(), "the input")
    assert fig.layout.title.text == "the input"
    assert isinstance(fig.data[0], go.Image) and np.asarray(fig.data[0].z).shape == (H, W, 3)
    assert_image_axes(fig)


def test_every_panel_of_a_grid_is_anchored_to_its_own_x_axis() -> None:
    fig = figures.image_grid([picture(i) for i in range(5)], [f"p{i}" for i in range(5)], columns=3, title="five")
    assert [a.text for a in fig.layout.annotations] == [f"p{i}" for i in range(5)]
    assert [ax.scaleanchor for ax in fig.select_yaxes()] == ["x", "x2", "x3", "x4", "x5", "x6"]
    assert_image_axes(fig)
    assert fig.layout.margin.t > 40  # room for the figure title above the panel titles


def test_coarse_map_cells_cover_the_picture_exactly() -> None:
    heat = np.array([[1.0, -2.0], [0.5, 0.0]])
    fig = figures.heatmap_overlay(picture(), heat, signed=True, zmax=2.0)
    trace = fig.data[1]
    assert (trace.dx, trace.dy) == (W / 2, H / 2)
    assert (trace.x0, trace.y0) == ((W / 2 - 1) / 2, (H / 2 - 1) / 2)  # the first cell spans pixels -0.5 .. dx - 0.5
    assert (trace.zmin, trace.zmax, trace.zmid) == (-2.0, 2.0, 0)
    assert_image_axes(fig)


def test_grid_overlay_places_values_at_patch_centres_on_a_symmetric_scale() -> None:
    fig = figures.grid_overlay(picture(), np.array([[0.3, -0.1]]), np.array([2.0]), np.array([2.0, 6.0]), unit="(probability)")
    trace = fig.data[1]
    assert list(trace.x) == [2.0, 6.0] and trace.zmin == -trace.zmax == -0.3
    assert "(probability)" in trace.hovertemplate


def test_box_outlines_the_pixels_it_names() -> None:
    shape = figures.image_with_box(picture(), (1, 2, 4, 6)).layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (1.5, 5.5, 0.5, 3.5)


def test_curve_draws_one_line_per_series_with_a_legend_only_for_several() -> None:
    assert len(figures.curve([1.0, 2.0], "t", "score").data) == 1
    fig = figures.curve([[1.0, 2.0], [0.5, 0.1]], "t", "score", names=["a", "b"])
    assert [t.name for t in fig.data] == ["a", "b"] and fig.layout.showlegend


def test_bars_put_the_most_probable_class_on_top() -> None:
    fig = figures.predictions_bar(["cat", "dog"], [0.7, 0.2])
    assert list(fig.data[0].y) == ["dog", "cat"] and fig.layout.xaxis.range == (0, 1)
    pair = figures.probability_comparison(["cat", "dog"], [0.7, 0.2], [0.1, 0.8])
    assert [t.name for t in pair.data] == ["before", "after"] and list(pair.data[1].x) == [0.8, 0.1]
