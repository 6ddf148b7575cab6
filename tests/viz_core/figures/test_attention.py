"""Attention figures: maps drawn over the picture where their patches are, one scale per block, titles that say what is shown."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from viz_core import figures

from . import samples
from .samples import assert_image_axes


def test_one_head_is_drawn_over_the_picture_at_its_pixels() -> None:
    result = samples.attention_heads(heads=(2,))
    fig = figures.figure(result)
    picture, heat = fig.data
    assert isinstance(picture, go.Image) and isinstance(heat, go.Heatmap)
    np.testing.assert_array_equal(np.asarray(heat.z), result.upsampled[0])
    assert fig.layout.title.text == "attention of blocks.1.attn, head 2<br><sup>from the class token</sup>"
    assert heat.zmin == 0 and heat.colorscale == go.Heatmap(colorscale=figures.SEQUENTIAL).colorscale
    assert_image_axes(fig)


def test_the_grid_shows_every_head_on_one_shared_scale() -> None:
    result = samples.attention_heads()
    fig = figures.figure(result, columns=2)
    heats = [trace for trace in fig.data if isinstance(trace, go.Heatmap)]
    assert len(heats) == 3 and sum(isinstance(t, go.Image) for t in fig.data) == 3
    assert {t.coloraxis for t in heats} == {"coloraxis"} and fig.layout.coloraxis.cmin == 0
    assert fig.layout.coloraxis.cmax == pytest.approx(0.75)
    # each 2×2 cell covers 3×4 pixels of the 6×8 picture, centred on its pixels
    assert (heats[0].dx, heats[0].dy, heats[0].x0, heats[0].y0) == (4.0, 3.0, 1.5, 1.0)
    for i, heat in enumerate(heats):
        assert np.argmax(np.asarray(heat.z)) == i  # head i looks at patch i
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["head 0 (75%)", "head 1 (75%)", "head 2 (75%)"]
    assert_image_axes(fig)


def test_overlay_of_a_chosen_head_and_of_the_mean() -> None:
    result = samples.attention_heads()
    np.testing.assert_array_equal(np.asarray(figures.attention_overlay(result, 1).data[1].z), result.upsampled[1])
    np.testing.assert_allclose(np.asarray(figures.attention_overlay(result).data[1].z), result.upsampled.mean(axis=0))
    with pytest.raises(ValueError, match="not in this result"):
        figures.attention_overlay(result, 7)


def test_relevance_titles_name_the_fusion_or_the_target() -> None:
    rollout = figures.figure(samples.attention_relevance())
    assert rollout.layout.title.text == "attention rollout (max over heads, discard 90%)<br><sup>from the class token, blocks.0.attn to blocks.1.attn</sup>"
    gradient = figures.figure(samples.attention_relevance("gradient_attention"))
    assert gradient.layout.title.text == "gradient-weighted attention, blocks.0.attn to blocks.1.attn<br><sup>target: class 1 'cat' (logit)</sup>"
    np.testing.assert_array_equal(np.asarray(gradient.data[1].z), samples.attention_relevance().upsampled)
