"""The attribution figures: one shared colour scale, grey-at-zero pictures, named class maps."""
from __future__ import annotations

import numpy as np

from viz_core import figures


def test_panels_share_one_scale_and_keep_raw_values_for_hover() -> None:
    signed = np.array([[-4.0, 2.0], [0.0, 1.0]])
    magnitude = np.array([[0.0, 0.001], [0.0005, 0.0]])
    fig = figures.attribution_panels([("a", signed, True), ("b", magnitude, False)], columns=2)
    first, second = fig.data
    assert first.coloraxis == second.coloraxis == "coloraxis"
    assert fig.layout.coloraxis.cmin == -1 and fig.layout.coloraxis.cmax == 1
    assert np.abs(np.asarray(first.z)).max() <= 1 and np.asarray(second.z).min() >= 0
    np.testing.assert_array_equal(np.asarray(first.customdata), signed)


def test_gradient_picture_is_grey_where_the_gradient_is_zero() -> None:
    attribution = np.zeros((3, 4, 4))
    attribution[0, 0, 0] = 1.0
    attribution[2, 1, 1] = -1.0
    picture = figures.gradient_picture(attribution)
    assert picture.shape == (4, 4, 3) and picture.dtype == np.uint8
    assert tuple(picture[3, 3]) == (128, 128, 128)
    assert picture[0, 0, 0] == 255 and picture[1, 1, 2] == 0


def test_class_map_names_the_winning_classes() -> None:
    classes = np.array([[1, 1], [7, 1]])
    fig = figures.class_map(np.zeros((8, 8, 3), np.uint8), classes, np.full((2, 2), 0.5), {1: "cat", 7: "dog", 9: "absent"}, np.array([2.0, 6.0]), np.array([2.0, 6.0]))
    heat = fig.data[1]
    assert list(heat.colorbar.ticktext) == ["cat", "dog"]
    np.testing.assert_array_equal(np.asarray(heat.z), [[0, 0], [1, 0]])
