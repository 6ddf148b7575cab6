"""Figures of the linear explanation of adversarial examples (Goodfellow, Shlens & Szegedy, 2014).

Why apart: these draw toy linear models, not the network, and show the arithmetic (ε‖w‖₁
against the input dimension) that makes invisible changes enough.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..results import DigitsFooling, DimensionGain, LinearFooling
from .base import MARGIN, cell, panel_grid
from .dispatch import draws
from .display import colour_scale, eps_text


@draws(LinearFooling)
def linear_fooling(result: LinearFooling) -> go.Figure:
    """Each input element before and after the ε·sign(w) step, with the weight that decides its direction."""
    index = [f"x{i + 1}" for i in range(result.x.size)]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.08)
    fig.add_trace(go.Bar(x=index, y=result.x, name="x (input)", marker_color="#8d99ae", hovertemplate="%{x}: %{y:.3g}<extra>input</extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=index, y=result.x_adv, name="x + ε·sign(w)", marker_color="#d62828", hovertemplate="%{x}: %{y:.3g}<extra>adversarial</extra>"), row=1, col=1)
    fig.add_trace(go.Bar(x=index, y=result.w, name="w (weights)", marker_color="#2a6f97", hovertemplate="%{x}: w=%{y:.3g}<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="value", row=1, col=1)
    fig.update_yaxes(title_text="weight", row=2, col=1)
    fig.update_layout(
        title=(
            f"score w·x+b: {result.score_before:.3g} → {result.score_after:.3g} "
            f"(Δ = ε‖w‖₁ = {result.eps:g} × {np.abs(result.w).sum():.3g} = {result.predicted_gain:.3g}); "
            f"P(class 1): {result.prob_before:.1%} → {result.prob_after:.1%}"
        ),
        barmode="group",
        title_font_size=14,
        margin={**MARGIN, "t": 50},
        height=440,
        legend=dict(orientation="h", y=-0.08, yanchor="top", x=0.5, xanchor="center"),
    )
    return fig


@draws(DigitsFooling)
def digit_panels(result: DigitsFooling, height: int = 300) -> go.Figure:
    """Clean digit, perturbation (signed, its own scale) and adversarial digit as 8×8 pixel grids."""
    titles = (
        f"digit (label {result.label}, predicted {result.source})",
        f"perturbation (±{result.eps:.3g})",
        f"adversarial (predicted {int(np.argmax(result.probs_after))})",
    )
    fig = panel_grid(titles, 3, height - MARGIN["t"], horizontal_spacing=0.1)
    grey = dict(colorscale="Greys", zmin=0.0, zmax=1.0, showscale=False, hovertemplate="x=%{x}, y=%{y}<br>ink=%{z:.3f}<extra></extra>")
    change = colour_scale(result.perturbation, True, limit=max(float(np.abs(result.perturbation).max()), 1e-12))
    fig.add_trace(go.Heatmap(z=result.image, **grey), **cell(0, 3))
    fig.add_trace(
        go.Heatmap(z=result.perturbation, colorbar=dict(thickness=10, x=0.64, xanchor="left", len=0.8), hovertemplate="x=%{x}, y=%{y}<br>change=%{z:+.3f}<extra></extra>", **change),
        **cell(1, 3),
    )
    fig.add_trace(go.Heatmap(z=result.adversarial, **grey), **cell(2, 3))
    frame = dict(showline=True, mirror=True, linecolor="#bbb")  # 8×8 digits need their edge drawn
    fig.update_xaxes(**frame)
    fig.update_yaxes(**frame)
    return fig


@draws(DimensionGain)
def dimension_gain(result: DimensionGain, marks: dict[str, int] | None = None) -> go.Figure:
    """Score change of an ε step along sign(w) (∝ d) and along random signs (∝ √d), log-log.

    `marks` labels dimensions of interest (e.g. an 8×8 digit, the model's input) with dotted lines.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=result.dims, y=result.aligned, mode="lines+markers", name="along sign(w): ε‖w‖₁", hovertemplate="d=%{x:,}<br>Δscore=%{y:.3g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=result.dims, y=result.random, mode="lines+markers", name="random signs (RMS)", hovertemplate="d=%{x:,}<br>Δscore=%{y:.3g}<extra></extra>"))
    for label, dim in (marks or {}).items():
        # on a log axis shapes take data values but annotations take log10 of them
        fig.add_shape(type="line", x0=dim, x1=dim, y0=0, y1=1, yref="paper", line=dict(dash="dot", color="#555"))
        fig.add_annotation(x=np.log10(dim), y=1, yref="paper", text=label, showarrow=False, xanchor="right", yanchor="top", font=dict(size=11))
    fig.update_layout(
        title=f"Score change from moving every input by ε = {eps_text(result.eps)}",
        xaxis=dict(type="log", title="input dimension d"),
        yaxis=dict(type="log", title="|change of the score|"),
        margin=MARGIN,
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig
