"""Comparisons: maps of several models or methods on one scale, correlation and CKA matrices,
and two layers' embeddings of one collection side by side."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..compare import LayerSimilarity, MapComparison
from .attribution import attribution_panels
from .base import MARGIN
from .display import QUALITATIVE, SEQUENTIAL
from .dispatch import draws


@draws(MapComparison)
def comparison_figure(result: MapComparison, *, columns: int | None = None, height_per_row: int = 300) -> go.Figure:
    """Every map, then every difference of equal-size maps, on ONE scale (each map relative to its own max)."""
    panels = [(name, result.maps[name], result.signed) for name in result.names]
    panels += [(f"{a} − {b}", difference, True) for (a, b), difference in result.differences.items()]
    count = columns or min(len(result.names), 4)
    return attribution_panels(panels, columns=count, height_per_row=height_per_row, title=result.params.get("title", ""))


def matrix_figure(matrix: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str, *, zmin: float = -1.0, zmax: float = 1.0, x_title: str = "", y_title: str = "", height: int | None = None) -> go.Figure:
    """A labelled matrix with its values written in the cells; one clickable point per cell.

    Why points: heatmap cells report no selection to a dashboard, scatter points do (as in the
    position picker); x and y of a click are the cell's column and row.
    """
    values = np.asarray(matrix, dtype=np.float64)
    fig = go.Figure(
        go.Heatmap(
            z=values, x=list(range(len(columns))), y=list(range(len(rows))), zmin=zmin, zmax=zmax,
            colorscale=SEQUENTIAL if zmin >= 0 else "RdBu_r", text=np.vectorize(lambda v: f"{v:.2f}")(values), texttemplate="%{text}",
            hoverinfo="skip", colorbar=dict(thickness=12),
        )
    )
    yy, xx = np.mgrid[0 : values.shape[0], 0 : values.shape[1]]
    fig.add_trace(
        go.Scatter(
            x=xx.ravel(), y=yy.ravel(), mode="markers", marker=dict(size=max(8, min(40, 400 // max(values.shape))), color="rgba(0,0,0,0)"),
            customdata=np.stack([np.array(rows, dtype=object)[yy.ravel()], np.array(columns, dtype=object)[xx.ravel()], values.ravel()], axis=-1),
            hovertemplate="%{customdata[0]} × %{customdata[1]}<br>%{customdata[2]:.3f}<extra></extra>", showlegend=False,
        )
    )
    fig.update_xaxes(tickvals=list(range(len(columns))), ticktext=list(columns), title=x_title)
    fig.update_yaxes(tickvals=list(range(len(rows))), ticktext=list(rows), title=y_title, autorange="reversed")
    fig.update_layout(title=title, margin=dict(MARGIN, l=120, b=100), height=height or max(320, 60 + 42 * len(rows)), clickmode="event+select", dragmode=False)
    return fig


@draws(LayerSimilarity)
def cka_figure(result: LayerSimilarity) -> go.Figure:
    """Linear CKA between every pair of layers (0: unrelated, 1: the same up to rotation and scale)."""
    return matrix_figure(
        result.cka, result.layers_a, result.layers_b, f"Linear CKA over {result.params.get('images', len(result.indices))} images of {result.collection}",
        zmin=0.0, zmax=1.0, y_title=result.model_a, x_title=result.model_b,
    )


def embedding_pair(result: LayerSimilarity, row: int, column: int, selected: Sequence[int] = (), height: int = 420) -> go.Figure:
    """Layer `row` of model A and layer `column` of model B: each image a point on its layer's first two
    principal components, coloured by label; `selected` (rows of the result) are highlighted in both."""
    titles = (f"{result.model_a}: {result.layers_a[row]}", f"{result.model_b}: {result.layers_b[column]}")
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.06)
    chosen = np.zeros(len(result.indices), dtype=bool)
    chosen[[i for i in selected if 0 <= i < chosen.size]] = True
    labels = np.asarray(result.labels)
    classes = np.unique(labels)
    groups = [(int(k), labels == k) for k in classes] if len(classes) <= len(QUALITATIVE) else [(None, np.ones(labels.size, dtype=bool))]
    for side, coords in enumerate((result.coords_a[row], result.coords_b[column])):
        for k, mask in groups:
            rows = np.flatnonzero(mask)
            colour = QUALITATIVE[k % len(QUALITATIVE)] if k is not None else labels[rows]
            name = result.label_names[k] if k is not None and k < len(result.label_names) else "images"
            fig.add_trace(
                go.Scattergl(
                    x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=name, legendgroup=name, showlegend=side == 0,
                    marker=dict(color=colour, size=np.where(chosen[rows], 10, 6), opacity=np.where(chosen[rows], 1.0, 0.25 if chosen.any() else 0.8)),
                    customdata=rows, hovertemplate=f"{name}<br>image %{{customdata}}<extra></extra>",
                ),
                row=1, col=side + 1,
            )
    fig.update_xaxes(showticklabels=False, title="PC 1")
    fig.update_yaxes(showticklabels=False, title="PC 2")
    fig.update_layout(height=height, margin=dict(MARGIN, t=80), dragmode="lasso", title="Select images in one map to see them in the other")
    return fig
