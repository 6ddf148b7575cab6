"""Attribution figures: one shared colour scale, grey-at-zero pictures, named class maps, titles that say what is shown."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from viz_core import figures

from . import samples
from .samples import assert_image_axes


def test_panels_share_one_scale_and_keep_raw_values_for_hover() -> None:
    signed = np.array([[-4.0, 2.0], [0.0, 1.0]])
    magnitude = np.array([[0.0, 0.001], [0.0005, 0.0]])
    fig = figures.attribution_panels([("a", signed, True), ("b", magnitude, False)], columns=2)
    first, second = fig.data
    assert first.coloraxis == second.coloraxis == "coloraxis"
    assert fig.layout.coloraxis.cmin == -1 and fig.layout.coloraxis.cmax == 1
    assert np.abs(np.asarray(first.z)).max() <= 1 and np.asarray(second.z).min() >= 0
    np.testing.assert_array_equal(np.asarray(first.customdata), signed)
    assert_image_axes(fig)


def test_class_map_names_the_winning_classes() -> None:
    classes = np.array([[1, 1], [7, 1]])
    fig = figures.class_map(np.zeros((8, 8, 3), np.uint8), classes, np.full((2, 2), 0.5), {1: "cat", 7: "dog", 9: "absent"}, np.array([2.0, 6.0]), np.array([2.0, 6.0]))
    heat = fig.data[1]
    assert list(heat.colorbar.ticktext) == ["cat", "dog"]
    np.testing.assert_array_equal(np.asarray(heat.z), [[0, 0], [1, 0]])


def test_attribution_figure_shows_the_input_and_the_signed_map_on_a_symmetric_scale() -> None:
    result = samples.attribution()
    fig = figures.attribution_figure(result)
    assert fig.layout.title.text == "guided backprop, target: class 1 'cat' (logit)"
    picture, heat = fig.data
    assert isinstance(picture, go.Image) and isinstance(heat, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(heat.z), result.map)
    assert heat.colorscale == go.Heatmap(colorscale=figures.DIVERGING).colorscale
    assert heat.zmin == -heat.zmax and heat.zmid == 0
    assert_image_axes(fig)


def test_attribution_figure_draws_saliency_as_a_magnitude() -> None:
    heat = figures.attribution_figure(samples.attribution(), signed=False).data[1]
    np.testing.assert_array_equal(np.asarray(heat.z), samples.attribution().saliency)
    assert heat.zmin == 0 and heat.zmid is None


def test_a_rule_that_found_nothing_to_act_on_is_said_in_the_title() -> None:
    assert "plain gradient" in figures.attribution_figure(samples.attribution("deconvnet", applied=0)).layout.title.text
    assert "plain gradient" not in figures.attribution_figure(samples.attribution("vanilla", applied=0)).layout.title.text


def test_grad_cam_figure_overlays_the_upsampled_map_from_zero() -> None:
    result = samples.grad_cam()
    fig = figures.grad_cam_figure(result, opacity=0.3)
    assert fig.layout.title.text == "Grad-CAM, target: class 1 'cat' (logit), layer: blocks.5"
    heat = fig.data[1]
    np.testing.assert_array_equal(np.asarray(heat.z), result.upsampled)
    assert heat.opacity == 0.3 and heat.zmin == 0 and heat.zmax == 2.0
    assert_image_axes(fig)


def test_occlusion_figure_shows_the_drop_on_a_symmetric_scale_or_the_winner() -> None:
    result = samples.occlusion()
    fig = figures.occlusion_figure(result)
    assert fig.layout.title.text == "occlusion: drop of class 1 'cat' (probability) (patch 3, stride 3, blur)"
    np.testing.assert_allclose(np.asarray(fig.data[1].z), result.drop)
    assert fig.data[1].zmin == -fig.data[1].zmax == -0.7
    winner = figures.occlusion_figure(result, winner=True)
    assert list(winner.data[1].colorbar.ticktext) == ["cat", "dog"]
    assert_image_axes(winner)


def test_segmentation_figure_shows_saliency_seeds_and_mask() -> None:
    fig = figures.segmentation_figure(samples.segmentation())
    assert [a.text for a in fig.layout.annotations] == ["saliency", "seeds", "GrabCut mask"]
    assert "foreground 50%" in fig.layout.title.text
    assert [type(t) for t in fig.data] == [go.Heatmap, go.Image, go.Image]
    assert fig.data[0].zmin == 0 and fig.data[0].zmax == 1
    seeds = np.asarray(fig.data[1].z)
    assert tuple(seeds[0, 0]) == (220, 40, 40) and tuple(seeds[-1, -1]) == (40, 200, 60)
    assert_image_axes(fig)


def test_position_picker_rings_the_chosen_cell() -> None:
    fig = figures.position_picker(np.arange(12.0).reshape(3, 4), y=2, x=1, title="pick")
    cells, chosen = fig.data[1], fig.data[2]
    assert len(cells.x) == 12 and (chosen.x, chosen.y) == ((1,), (2,))
    assert fig.layout.clickmode == "event+select"
