"""Display helpers: robust symmetric ranges, one scale per kind of map, grey-at-zero pictures."""
from __future__ import annotations

import numpy as np

from viz_core import figures


def test_symmetric_range_ignores_single_hot_pixels_and_never_returns_zero() -> None:
    values = np.ones(1000)
    values[0] = -1e6
    assert figures.symmetric_range([values]) == 1.0
    assert figures.symmetric_range([values], 1.0) == 1e6
    assert figures.symmetric_range([np.zeros(4)]) == 1.0


def test_colour_scale_diverges_around_zero_for_signed_maps_and_starts_at_zero_for_magnitudes() -> None:
    signed = figures.colour_scale(np.array([-3.0, 1.0]), True, quantile=1.0)
    assert signed == dict(colorscale=figures.DIVERGING, zmin=-3.0, zmax=3.0, zmid=0)
    magnitude = figures.colour_scale(np.array([0.5, 2.0]), False)
    assert magnitude == dict(colorscale=figures.SEQUENTIAL, zmin=0.0, zmax=2.0)
    assert figures.colour_scale(np.array([0.5, 2.0]), False, limit=1.0)["zmax"] == 1.0
    assert figures.colour_scale(np.zeros(3), False)["zmax"] > 0  # a flat map still has a scale


def test_normalised_maps_land_in_their_unit_range() -> None:
    heat = np.array([-10.0, 0.0, 5.0, 10.0])
    np.testing.assert_allclose(figures.normalised(heat, True, quantile=1.0), [-1, 0, 0.5, 1])
    assert figures.normalised(heat, False, quantile=1.0).min() == 0.0


def test_gradient_picture_is_grey_where_the_gradient_is_zero() -> None:
    attribution = np.zeros((3, 4, 4))
    attribution[0, 0, 0] = 1.0
    attribution[2, 1, 1] = -1.0
    picture = figures.gradient_picture(attribution)
    assert picture.shape == (4, 4, 3) and picture.dtype == np.uint8
    assert tuple(picture[3, 3]) == (128, 128, 128)
    assert picture[0, 0, 0] == 255 and picture[1, 1, 2] == 0


def test_amplified_change_is_grey_at_zero_and_saturates_at_the_limit() -> None:
    picture = figures.amplified(np.array([[[0.0, 0.1, -0.2]]]), 0.1)
    assert picture.tolist() == [[[128, 255, 0]]]


def test_tile_canvas_places_tiles_row_major_with_gaps() -> None:
    tiles = np.arange(4).reshape(4, 1, 1).astype(float) + 1
    canvas = figures.tile_canvas(tiles, 2, 2, 1, 0.0)
    assert canvas.tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]


def test_top_classes_merges_before_and_after_without_repeats() -> None:
    before, after = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.0, 0.3, 0.2, 0.5])
    assert figures.top_classes(before, after, k=2, extra=(2,)) == [0, 1, 3, 2]


def test_eps_text_quotes_whole_grey_levels() -> None:
    assert figures.eps_text(8 / 255) == "8/255"
    assert figures.eps_text(0.03) == "0.03"
    assert figures.eps_text(3.0, "l2") == "3"
