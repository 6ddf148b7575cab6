"""Synthesis figures: titles from the recorded parameters, grey-at-zero changes, the best step marked."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from viz_core import figures

from . import samples
from .samples import assert_image_axes


def test_synthesis_figure_says_what_was_maximised() -> None:
    fig = figures.synthesis_figure(samples.synthesis())
    assert fig.layout.title.text == "maximising logit[1] ('tabby') (fourier, 3 steps)"
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), samples.synthesis().image)
    assert_image_axes(fig)


def test_synthesis_curve_marks_the_best_step() -> None:
    fig = figures.synthesis_curve(samples.synthesis(), "logit")
    assert (fig.data[1].x, fig.data[1].y) == ((1,), (2.0,))


def test_reconstructions_put_the_original_first() -> None:
    fig = figures.reconstructions(samples.picture(), [samples.picture(1)], ["blocks.2"])
    assert [a.text for a in fig.layout.annotations] == ["original", "blocks.2"]


def test_adversarial_panels_show_the_change_grey_at_zero_and_name_the_attack() -> None:
    result = samples.adversarial()
    fig = figures.adversarial_panels(result, ["plane", "cat", "ostrich"])
    assert fig.layout.title.text == "PGD L∞, ε = 8/255, target: ostrich: succeeded"
    assert [a.text for a in fig.layout.annotations][0] == "original: cat (80%)"
    change = np.asarray(fig.data[1].z)
    assert tuple(change[0, 0]) == (255, 255, 255) and tuple(change[1, 1]) == (0, 0, 0) and tuple(change[2, 2]) == (128, 128, 128)
    assert_image_axes(fig)
    assert "class 2" in figures.adversarial_panels(result).layout.title.text  # without names: indices


def test_attack_sweep_plots_the_success_rate_in_grey_levels() -> None:
    fig = figures.attack_sweep(samples.attack_sweep())
    rate = fig.data[0]
    np.testing.assert_allclose(rate.x, [1, 2, 4])
    np.testing.assert_allclose(rate.y, [0, 0.5, 1])
    assert len(fig.data) == 3 and "change the prediction" in fig.layout.title.text


def test_style_transfer_figure_shows_content_style_and_result() -> None:
    fig = figures.style_transfer_figure(samples.style_transfer())
    assert [a.text for a in fig.layout.annotations] == ["content", "style", "result (3 steps, style loss fell 80%)"]
    assert all(isinstance(t, go.Image) for t in fig.data) and "blocks.4" in fig.layout.title.text
    assert_image_axes(fig)
    assert [t.name for t in figures.style_losses(samples.style_transfer()).data] == ["style (Gram)", "content", "total variation"]
