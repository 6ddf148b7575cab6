"""Linear-explanation figures: the ε‖w‖₁ arithmetic in the title, signed digit changes centred at zero."""
from __future__ import annotations

import numpy as np

from viz_core import figures

from . import samples
from .samples import assert_image_axes


def test_linear_fooling_shows_inputs_before_and_after_and_the_weights() -> None:
    fig = figures.linear_fooling(samples.linear_fooling())
    assert [t.name for t in fig.data] == ["x (input)", "x + ε·sign(w)", "w (weights)"]
    assert "ε‖w‖₁ = 0.1 × 3.5 = 0.35" in fig.layout.title.text


def test_digit_panels_draw_the_perturbation_on_a_symmetric_scale() -> None:
    fig = figures.digit_panels(samples.digits_fooling())
    change = fig.data[1]
    assert change.zmin == -change.zmax == -0.2 and change.zmid == 0
    assert [a.text for a in fig.layout.annotations][2] == "adversarial (predicted 5)"
    assert_image_axes(fig)


def test_dimension_gain_is_log_log_with_the_budget_in_grey_levels() -> None:
    fig = figures.dimension_gain(samples.dimension_gain(), {"digit": 64})
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    assert fig.layout.title.text == "Score change from moving every input by ε = 1/255"
    assert fig.layout.annotations[0].x == np.log10(64)
