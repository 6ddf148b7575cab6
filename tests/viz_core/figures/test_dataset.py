"""Dataset figures: filters on one signed scale, clickable patch rows, measured fields, projections."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from viz_core import figures

from . import samples
from .samples import assert_image_axes


def test_kernels_share_one_signed_scale_centred_at_zero() -> None:
    fig = figures.filters_figure(samples.filters("kernels"))
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-1.0, 1.0, 0)
    assert np.asarray(heat.z).shape == (4 * 4 - 1, 2 * 4 - 1)  # 4×2 kernels of 3×3, one-cell gaps
    assert fig.layout.title.text.startswith("conv: 4 filters (rows) × 2 input channels (columns)")
    assert_image_axes(fig)


def test_rgb_filters_are_one_picture() -> None:
    result = samples.filters("rgb")
    fig = figures.filters_figure(result)
    assert isinstance(fig.data[0], go.Image) and "conv: 5 of 8 filters as RGB (shared scale)" in fig.layout.title.text
    assert figures.filters_picture(result).dtype == np.uint8


def test_top_patches_carry_row_and_rank_for_a_click() -> None:
    fig = figures.top_patches_figure(samples.top_patches())
    markers = fig.data[1]
    assert np.asarray(markers.customdata).tolist()[:4] == [[0, 0], [0, 1], [0, 2], [1, 0]]
    assert list(fig.layout.yaxis.ticktext) == ["ch 7", "ch 3"]
    assert fig.layout.title.text == "Top-3 patches of act4<br><sup>4×5 px field, over demo</sup>"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"


def test_measured_field_shows_the_gradient_and_its_box() -> None:
    fig = figures.measured_field_figure(samples.receptive_field())
    assert fig.layout.title.text == "receptive field of act2 at (1, 2): 3×4 px"
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)
    shape = fig.layout.shapes[0]
    assert (shape.x0, shape.y1) == (1.5, 3.5)
    assert_image_axes(fig)


def test_projection_figure_groups_points_and_keeps_rows_for_selection() -> None:
    result = samples.projection()
    fig = figures.projection_figure(result, groups=["a", "b"] * 6, highlight=0)
    assert fig.layout.title.text == "t-SNE of 12 points"
    assert [t.name for t in fig.data] == ["a (6)", "b (6)", "chosen image"]
    assert sorted(np.concatenate([t.customdata for t in fig.data[:2]]).tolist()) == list(range(12))
    assert [t.name for t in figures.projection_figure(result).data] == ["all (12)"]
