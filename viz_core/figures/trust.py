"""Figures of the trust checks: deletion / insertion curves, their areas over a collection, and
maps under model randomisation (the grid and the similarity curves).

Why the same colour per method everywhere: a reader follows one method from the curves to the
table to the randomisation grid, so `method_colour` fixes it once; the random floor is always a
dashed grey line.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..attribution.faithfulness import LABELS, METHODS
from ..results import Faithfulness, FaithfulnessSummary, Sanity
from .base import MARGIN, cell, image_axes
from .dispatch import draws
from .display import DIVERGING, QUALITATIVE, SEQUENTIAL, normalised

FLOOR = dict(color="#7f7f7f", dash="dash", width=2)


def method_colour(name: str) -> str:
    """One colour per method, the same in every trust figure."""
    return QUALITATIVE[METHODS.index(name) % len(QUALITATIVE)] if name in METHODS else "#333333"


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


@draws(Faithfulness)
def faithfulness_figure(result: Faithfulness, *, height: int = 380) -> go.Figure:
    """Deletion (left: lower is better) and insertion (right: higher is better) curves, areas in the legend."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["Deletion: top-ranked removed (lower area = better)", "Insertion: revealed on a blur (higher area = better)"], horizontal_spacing=0.08)
    percent = result.fractions * 100
    for j, name in enumerate(result.methods):
        colour = method_colour(name)
        d, i = result.deletion_area[j], result.insertion_area[j]
        fig.add_trace(go.Scatter(x=percent, y=result.deletion[j], mode="lines", name=label(name), legendgroup=name, line=dict(color=colour),
                                 hovertemplate=f"{label(name)}<br>%{{x:.0f}}% removed: %{{y:.3f}}<br>area {d:.3f}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=percent, y=result.insertion[j], mode="lines", name=label(name), legendgroup=name, showlegend=False, line=dict(color=colour),
                                 hovertemplate=f"{label(name)}<br>%{{x:.0f}}% revealed: %{{y:.3f}}<br>area {i:.3f}<extra></extra>"), row=1, col=2)
    if np.isfinite(result.random_deletion).any() or np.isfinite(result.random_insertion).any():
        fig.add_trace(go.Scatter(x=percent, y=result.random_deletion, mode="lines", name="random order", legendgroup="random", line=FLOOR,
                                 hovertemplate=f"random<br>%{{x:.0f}}%: %{{y:.3f}}<br>area {result.random_deletion_area:.3f}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=percent, y=result.random_insertion, mode="lines", name="random order", legendgroup="random", showlegend=False, line=FLOOR,
                                 hovertemplate=f"random<br>%{{x:.0f}}%: %{{y:.3f}}<br>area {result.random_insertion_area:.3f}<extra></extra>"), row=1, col=2)
    unit = "pixels" if result.params.get("patch", 1) == 1 else f"{result.params['patch']}-px patches"
    fig.update_xaxes(title=f"% of {unit} switched", range=[0, 100])
    fig.update_yaxes(title=result.target, row=1, col=1)
    fig.update_layout(title=f"Deletion and insertion — {result.target}", margin={**MARGIN, "t": 70, "b": 10}, height=height + 60,
                      legend=dict(orientation="h", y=-0.2, yanchor="top", x=0.5, xanchor="center", font=dict(size=11)))
    return fig


def _bars(fig: go.Figure, names: Sequence[str], values: list[tuple[float, float, float]], col: int, floor: tuple[float, float, float]) -> None:
    means = [v[0] for v in values]
    fig.add_trace(
        go.Bar(
            y=[label(n) for n in names], x=means, orientation="h", marker_color=[method_colour(n) for n in names], showlegend=False,
            error_x=dict(type="data", symmetric=False, array=[max(v[2] - v[0], 0) if np.isfinite(v[2]) else 0 for v in values],
                         arrayminus=[max(v[0] - v[1], 0) if np.isfinite(v[1]) else 0 for v in values]),
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        ),
        row=1, col=col,
    )
    if np.isfinite(floor[0]):
        fig.add_vline(x=floor[0], line=FLOOR, row=1, col=col)  # named in the subplot title: a label on the line hit the title


@draws(FaithfulnessSummary)
def faithfulness_summary_figure(result: FaithfulnessSummary, *, height: int | None = None) -> go.Figure:
    """Mean deletion and insertion areas per method with 95 % intervals; the random order as a dashed line."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=["Deletion area (lower = better; dashed: random order)", "Insertion area (higher = better; dashed: random order)"], horizontal_spacing=0.04)
    _bars(fig, result.methods, [result.interval(result.deletion_area[:, j]) for j in range(len(result.methods))], 1, result.interval(result.random_deletion_area))
    _bars(fig, result.methods, [result.interval(result.insertion_area[:, j]) for j in range(len(result.methods))], 2, result.interval(result.random_insertion_area))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title=f"Over {len(result.names)} images of {result.collection} (mean, 95% interval)", margin={**MARGIN, "t": 80}, height=height or 120 + 32 * len(result.methods))
    return fig


@draws(Sanity)
def sanity_curves(result: Sanity, *, height: int = 560) -> go.Figure:
    """Similarity of each method's map to the original at every stage: Spearman and SSIM, |map| and signed."""
    titles = ["Spearman rank correlation, |map|", "Spearman rank correlation, signed map", "SSIM, |map|", "SSIM, signed map"]
    fig = make_subplots(rows=2, cols=2, subplot_titles=titles, shared_xaxes=True, vertical_spacing=0.12, horizontal_spacing=0.07)
    stages = list(result.stages)
    for k, values in enumerate((result.spearman_abs, result.spearman_signed, result.ssim_abs, result.ssim_signed)):
        for j, name in enumerate(result.methods):
            dash = "solid" if name not in result.insensitive else "dot"
            fig.add_trace(
                go.Scatter(x=stages, y=values[:, j], mode="lines+markers", name=label(name) + (" (insensitive)" if name in result.insensitive else ""),
                           legendgroup=name, showlegend=k == 0, line=dict(color=method_colour(name), dash=dash),
                           hovertemplate=f"{label(name)}<br>%{{x}}: %{{y:.3f}}<extra></extra>"),
                row=k // 2 + 1, col=k % 2 + 1,
            )
    if result.verdict_stage is not None:
        fig.add_hline(y=result.threshold, line=FLOOR, row=1, col=1, annotation_text=f"insensitive ≥ {result.threshold:g}", annotation_position="bottom right")
        fig.add_vline(x=result.verdict_stage, line=dict(color="#bbbbbb", width=1), row=1, col=1)
    fig.update_yaxes(range=[-0.5, 1.05])
    what = {"cascading": "randomised from the top down to", "independent": "only this group randomised", "top_half": "randomised", "full": "randomised", "data": "model"}[result.mode]
    fig.update_xaxes(title=what, row=2)
    fig.update_layout(title=f"Maps vs the original ({result.mode} randomisation) — {result.target}", margin={**MARGIN, "t": 80}, height=height)
    return fig


def sanity_grid(result: Sanity, *, absolute: bool = True, height_per_row: int = 90) -> go.Figure:
    """Each method's map (rows) at each stage (columns): |map| or signed, each panel scaled by its own maximum."""
    stages, methods = list(result.stages), list(result.methods)
    rows, columns = len(methods), len(stages)
    titles = [stage if j == 0 else "" for j in range(rows) for stage in stages]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.004, vertical_spacing=min(0.02, 0.2 / rows))
    image_axes(fig)
    fig.update_annotations(font_size=10)
    for j, name in enumerate(methods):
        for s in range(columns):
            values = result.maps[s, j]
            z = normalised(np.abs(values), False) if absolute else normalised(values, True)
            fig.add_trace(go.Heatmap(z=z, coloraxis="coloraxis", hovertemplate=f"{label(name)} · {stages[s]}<br>%{{z:.2f}}<extra></extra>"), **cell(j * columns + s, columns))
        axis = fig.get_subplot(j + 1, 1)
        fig.add_annotation(text=label(name) + (" ⚠" if name in result.insensitive else ""), xref="paper", yref=f"{axis.yaxis.plotly_name.replace('axis', '')} domain",
                           x=-0.005, y=0.5, xanchor="right", showarrow=False, font=dict(size=11))
    scale = dict(colorscale=SEQUENTIAL, cmin=0, cmax=1) if absolute else dict(colorscale=DIVERGING, cmin=-1, cmax=1)
    fig.update_layout(
        title=dict(text=f"Maps as the model is randomised ({result.mode}) — {result.target}", y=0.995, yanchor="top"),
        coloraxis=dict(**scale, colorbar=dict(thickness=10, title="relative")),
        margin=dict(l=130, r=10, t=70, b=10), height=rows * height_per_row + 80, showlegend=False,
    )
    return fig
