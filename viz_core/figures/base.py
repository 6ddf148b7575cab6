"""The building blocks every result figure is made of: image panels, overlays, curves and bars.

Why written once: images must keep their own aspect ratio, have no ticks and run top-down in
every figure, and panels that are compared must line up; each figure module composes these
blocks instead of setting up axes itself.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .display import colour_scale

MARGIN = dict(l=10, r=10, t=40, b=10)


def image_axes(fig: go.Figure) -> go.Figure:
    """Every panel of `fig` as an image: no ticks or grid, y running down, one pixel square."""
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="", autorange="reversed")
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor or "x"))
    return fig


def panel_grid(titles: Sequence[str], columns: int, height_per_row: int, title: str = "", horizontal_spacing: float = 0.02) -> go.Figure:
    """An empty grid of image panels, one per title, row-major; fill it with `cell(i, columns)`."""
    count = max(len(titles), 1)
    rows = (count + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=min(columns, count), subplot_titles=list(titles), horizontal_spacing=horizontal_spacing, vertical_spacing=0.08)
    top = 70 if title else 40  # room for the figure title above the panel titles
    fig.update_layout(title=dict(text=title, y=0.99, yanchor="top"), margin={**MARGIN, "t": top}, height=rows * height_per_row + top, showlegend=False)
    return image_axes(fig)


def cell(index: int, columns: int) -> dict[str, int]:
    """The row and column (1-based, as plotly counts) of panel `index` in a grid of `columns`."""
    return dict(row=index // columns + 1, col=index % columns + 1)


def _single(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=title, margin=MARGIN, height=height)
    return image_axes(fig)


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def image(picture: np.ndarray, title: str = "", height: int = 380) -> go.Figure:
    """An HxWx3 uint8 picture at its own aspect ratio, hover showing (x, y) and RGB."""
    return _single(go.Figure(go.Image(z=np.asarray(picture), hovertemplate="x=%{x}, y=%{y}<br>RGB=%{z}<extra></extra>")), title, height)


def image_grid(pictures: Sequence[np.ndarray], titles: Sequence[str], columns: int = 4, height_per_row: int = 220, title: str = "") -> go.Figure:
    """Several pictures in a grid of panels, each at its own aspect ratio."""
    fig = panel_grid(titles, columns, height_per_row, title)
    for i, picture in enumerate(pictures):
        fig.add_trace(go.Image(z=np.asarray(picture), hovertemplate="x=%{x}, y=%{y}<extra></extra>"), **cell(i, columns))
    return fig


def add_box(fig: go.Figure, box: Sequence[int], colour: str, width: int) -> go.Figure:
    """Outline pixels top..bottom, left..right (exclusive ends) of an image panel."""
    top, left, bottom, right = (float(v) for v in box)
    fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5, line=dict(color=colour, width=width))
    return fig


def image_with_box(picture: np.ndarray, box: Sequence[int], title: str = "", height: int = 360) -> go.Figure:
    """A picture with one rectangle (top, left, bottom, right; exclusive) drawn on it."""
    return add_box(image(picture, title, height), box, "#ffd60a", 3)


def overlay(picture: np.ndarray, heat: go.Heatmap, title: str = "", height: int = 380) -> go.Figure:
    """A heatmap trace drawn over a picture; the trace's x/y place its cells in pixels."""
    fig = go.Figure(go.Image(z=np.asarray(picture), hoverinfo="skip"))
    fig.add_trace(heat)
    return _single(fig, title, height)


def heatmap_overlay(
    picture: np.ndarray,
    heat: np.ndarray,
    title: str = "",
    *,
    signed: bool = False,
    opacity: float = 0.5,
    zmax: float | None = None,
    unit: str = "",
    height: int = 380,
) -> go.Figure:
    """A map drawn over the picture, cells stretched to line up exactly with its pixels.

    `heat` may be coarser than the picture (Grad-CAM, occlusion); each cell covers H/h x W/w pixels.
    """
    heat = np.asarray(heat, dtype=np.float64)
    height_px, width_px = np.asarray(picture).shape[:2]
    dy, dx = height_px / heat.shape[0], width_px / heat.shape[1]
    trace = go.Heatmap(
        z=heat,
        x0=(dx - 1) / 2,
        dx=dx,
        y0=(dy - 1) / 2,
        dy=dy,
        opacity=opacity,
        hovertemplate=f"value=%{{z:.4g}}{_unit(unit)}<extra></extra>",
        colorbar=dict(thickness=12),
        **colour_scale(heat, signed, limit=zmax),
    )
    return overlay(picture, trace, title, height)


def grid_overlay(
    picture: np.ndarray,
    grid: np.ndarray,
    centers_y: np.ndarray,
    centers_x: np.ndarray,
    title: str = "",
    *,
    signed: bool = True,
    opacity: float = 0.6,
    unit: str = "",
    height: int = 420,
) -> go.Figure:
    """A coarse (ny, nx) grid of values drawn over the picture at its cells' pixel centres."""
    values = np.asarray(grid, dtype=np.float64)
    trace = go.Heatmap(
        z=values,
        x=np.asarray(centers_x),
        y=np.asarray(centers_y),
        opacity=opacity,
        hovertemplate=f"patch centre x=%{{x}}, y=%{{y}}<br>%{{z:.4g}}{_unit(unit)}<extra></extra>",
        colorbar=dict(thickness=12),
        **colour_scale(values, signed, quantile=1.0),
    )
    return overlay(picture, trace, title, height)


def curve(values: Sequence[float], title: str, y_label: str, x_label: str = "step", names: Sequence[str] | None = None) -> go.Figure:
    """A line (or several, when `values` is a sequence of sequences) against step number."""
    series = values if len(values) and isinstance(values[0], (list, tuple, np.ndarray)) else [values]
    fig = go.Figure()
    for i, line in enumerate(series):
        fig.add_trace(go.Scatter(y=list(line), mode="lines", name=names[i] if names else y_label))
    fig.update_layout(title=title, margin=MARGIN, height=300, xaxis_title=x_label, yaxis_title=y_label, showlegend=len(series) > 1)
    return fig


def predictions_bar(labels: Sequence[str], probabilities: Sequence[float], title: str = "Top classes") -> go.Figure:
    """Horizontal bars of class probabilities, most probable on top."""
    shown = list(probabilities)[::-1]
    fig = go.Figure(
        go.Bar(
            x=shown,
            y=list(labels)[::-1],
            orientation="h",
            text=[f"{p:.1%}" for p in shown],
            textposition="auto",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
            marker_color="#2a6f97",
        )
    )
    fig.update_layout(title=title, margin={**MARGIN, "b": 30}, height=300, xaxis=dict(range=[0, 1], tickformat=".0%", title="probability"))
    return fig


def probability_comparison(labels: Sequence[str], before: Sequence[float], after: Sequence[float], title: str = "Class probabilities before and after") -> go.Figure:
    """Grouped horizontal bars: each class's probability for the clean and the changed input."""
    labels, before, after = list(labels)[::-1], list(before)[::-1], list(after)[::-1]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=labels, x=before, orientation="h", name="before", marker_color="#8d99ae", hovertemplate="%{y}: %{x:.2%}<extra>before</extra>"))
    fig.add_trace(go.Bar(y=labels, x=after, orientation="h", name="after", marker_color="#d62828", hovertemplate="%{y}: %{x:.2%}<extra>after</extra>"))
    fig.update_layout(
        title=title,
        barmode="group",
        margin=MARGIN,
        height=max(280, 30 * len(labels) + 110),
        xaxis=dict(range=[0, 1], tickformat=".0%", title="probability"),
        yaxis=dict(type="category"),
        legend=dict(orientation="h", y=-0.22, yanchor="top", x=0.5, xanchor="center"),
    )
    return fig
