"""Results -> Plotly figures. Pure functions, no I/O, no Streamlit.

One visual language everywhere: images at their own aspect ratio without ticks, one diverging
scale centred at zero for signed maps, one sequential scale for magnitudes, a shared range across
panels that are compared, and hover text in the units of the quantity.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"
_MARGIN = dict(l=10, r=10, t=40, b=10)


def _hide_axes(fig: go.Figure) -> go.Figure:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x", autorange="reversed")
    return fig


def image(picture: np.ndarray, title: str = "", height: int = 380) -> go.Figure:
    """An HxWx3 uint8 picture at its own aspect ratio, hover showing (x, y) and RGB."""
    fig = go.Figure(go.Image(z=np.asarray(picture), hovertemplate="x=%{x}, y=%{y}<br>RGB=%{z}<extra></extra>"))
    fig.update_layout(title=title, margin=_MARGIN, height=height)
    return _hide_axes(fig)


def symmetric_range(maps: Sequence[np.ndarray], quantile: float = 0.995) -> float:
    """One ± limit for signed maps that are compared side by side (robust to single hot pixels)."""
    values = np.concatenate([np.abs(np.asarray(m, dtype=np.float64)).ravel() for m in maps])
    limit = float(np.quantile(values, quantile)) if values.size else 1.0
    return limit if limit > 0 else 1.0


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
    picture = np.asarray(picture)
    heat = np.asarray(heat, dtype=np.float64)
    height_px, width_px = picture.shape[:2]
    dy, dx = height_px / heat.shape[0], width_px / heat.shape[1]
    limit = zmax if zmax is not None else (symmetric_range([heat]) if signed else float(np.nanmax(heat)) or 1.0)
    fig = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    fig.add_trace(
        go.Heatmap(
            z=heat,
            x0=(dx - 1) / 2,
            dx=dx,
            y0=(dy - 1) / 2,
            dy=dy,
            colorscale=DIVERGING if signed else SEQUENTIAL,
            zmin=-limit if signed else float(np.nanmin(heat)) if zmax is None else 0.0,
            zmax=limit,
            zmid=0 if signed else None,
            opacity=opacity,
            hovertemplate=f"value=%{{z:.4g}}{(' ' + unit) if unit else ''}<extra></extra>",
            colorbar=dict(thickness=12),
        )
    )
    fig.update_layout(title=title, margin=_MARGIN, height=height)
    return _hide_axes(fig)


def image_grid(
    pictures: Sequence[np.ndarray],
    titles: Sequence[str],
    columns: int = 4,
    height_per_row: int = 220,
    title: str = "",
) -> go.Figure:
    """Several pictures in a grid of panels, each at its own aspect ratio."""
    count = max(len(pictures), 1)
    rows = (count + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=min(columns, count), subplot_titles=list(titles), horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, picture in enumerate(pictures):
        fig.add_trace(go.Image(z=np.asarray(picture), hovertemplate="x=%{x}, y=%{y}<extra></extra>"), row=i // columns + 1, col=i % columns + 1)
    fig.update_layout(title=title, margin=_MARGIN, height=rows * height_per_row + 40, showlegend=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for i in range(1, count + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // columns + 1, col=(i - 1) % columns + 1)
    return fig


def predictions_bar(labels: Sequence[str], probabilities: Sequence[float], title: str = "Top classes") -> go.Figure:
    """Horizontal bars of class probabilities, most probable on top."""
    fig = go.Figure(
        go.Bar(
            x=list(probabilities)[::-1],
            y=list(labels)[::-1],
            orientation="h",
            text=[f"{p:.1%}" for p in list(probabilities)[::-1]],
            textposition="auto",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
            marker_color="#2a6f97",
        )
    )
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40, b=30), height=300, xaxis=dict(range=[0, 1], tickformat=".0%", title="probability"))
    return fig


def curve(values: Sequence[float], title: str, y_label: str, x_label: str = "step", names: Sequence[str] | None = None) -> go.Figure:
    """A line (or several, when `values` is a sequence of sequences) against step number."""
    series = values if values and isinstance(values[0], (list, tuple, np.ndarray)) else [values]
    fig = go.Figure()
    for i, line in enumerate(series):
        fig.add_trace(go.Scatter(y=list(line), mode="lines", name=names[i] if names else y_label))
    fig.update_layout(title=title, margin=_MARGIN, height=300, xaxis_title=x_label, yaxis_title=y_label, showlegend=len(series) > 1)
    return fig


from .results import Synthesis  # noqa: E402


def synthesis_curve(result: Synthesis, y_label: str, title: str = "Score during optimisation") -> go.Figure:
    """The objective at every step of an image optimisation, with the step of the returned picture marked."""
    fig = curve(list(result.scores), title, y_label)
    if 0 <= result.best_step < len(result.scores):
        fig.add_trace(go.Scatter(x=[result.best_step], y=[result.scores[result.best_step]], mode="markers", name="best", marker=dict(size=9, color="#d62728"), hovertemplate="best: step %{x}, %{y:.4g}<extra></extra>"))
    return fig


def reconstructions(original: np.ndarray, pictures: Sequence[np.ndarray], titles: Sequence[str], title: str = "") -> go.Figure:
    """The original beside its reconstructions (feature inversion from several depths)."""
    return image_grid([original, *pictures], ["original", *titles], columns=len(pictures) + 1, height_per_row=300, title=title)
