"""Figures of what a layer holds across many inputs: filters, top patches, receptive fields, embeddings.

Why together: each reads weights or a dataset pass rather than one image's gradient, and each
lays many small pictures or points out so that one can be picked.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..dataset.patches import ReceptiveField
from ..results import Filters, Projection, TopPatches
from .base import MARGIN, add_box, image, image_axes
from .dispatch import draws
from .display import QUALITATIVE, colour_scale, tile_canvas

PROJECTION_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def filters_picture(result: Filters, tile: int = 48) -> np.ndarray:
    """RGB filter tiles enlarged (nearest neighbour) into one square-ish uint8 picture."""
    zoom = max(1, tile // result.tiles.shape[1])
    tiles = result.tiles.repeat(zoom, axis=1).repeat(zoom, axis=2)
    columns = int(np.ceil(np.sqrt(len(tiles))))
    rows = int(np.ceil(len(tiles) / columns))
    return tile_canvas(tiles, rows, columns, max(2, zoom // 2), 255)


@draws(Filters)
def filters_figure(result: Filters) -> go.Figure:
    """RGB filter tiles in a square-ish grid, or a filters × input-channels grid of signed kernels."""
    if result.mode == "rgb":
        rows = int(np.ceil(len(result.tiles) / np.ceil(np.sqrt(len(result.tiles)))))
        colours = "RGB" if result.shown[1] == 3 else "grey"
        return image(filters_picture(result), f"{result.layer}: {len(result.tiles)} of {result.weight_shape[0]} filters as {colours} ({result.scale} scale)", height=max(320, 60 * rows + 60))
    n_filters, n_inputs, kh, kw = result.kernels.shape
    cells = result.kernels.reshape(n_filters * n_inputs, kh, kw).astype(np.float64)
    canvas = tile_canvas(cells, n_filters, n_inputs, 1, np.nan)
    fig = go.Figure(go.Heatmap(z=canvas, hovertemplate="weight (scaled)=%{z:.3f}<extra></extra>", colorbar=dict(thickness=12, title="scaled"), **colour_scale(canvas, True, limit=1.0)))
    fig.update_layout(
        title=f"{result.layer}: {n_filters} filters (rows) × {n_inputs} input channels (columns) of {result.weight_shape}, {result.scale} scale",
        margin=MARGIN,
        height=int(min(1400, max(320, n_filters * (kh + 1) * 6 + 80))),
    )
    return image_axes(fig)


@draws(TopPatches)
def top_patches_figure(result: TopPatches, zoom_to: int = 72) -> go.Figure:
    """One row of k patches per channel, best on the left (the lecture's pool5 picture).

    Transparent markers over the patches carry (row, column) so a click can select a patch.
    """
    channels, k, height, width = result.patches.shape[:4]
    zoom = max(1, zoom_to // max(height, width))
    tiles = result.patches.repeat(zoom, axis=2).repeat(zoom, axis=3).reshape(channels * k, height * zoom, width * zoom, 3)
    gap = 4
    canvas = tile_canvas(tiles, channels, k, gap, 255)
    fig = go.Figure(go.Image(z=canvas, hoverinfo="skip"))
    step_y, step_x = height * zoom + gap, width * zoom + gap
    rows, cols = np.meshgrid(np.arange(channels), np.arange(k), indexing="ij")
    text = [
        f"channel {result.channels[r]}, rank {c + 1}<br>{result.image_names[r, c]} ({result.image_labels[r, c]})<br>max response {result.values[r, c]:.3g}"
        for r, c in zip(rows.ravel(), cols.ravel())
    ]
    fig.add_trace(
        go.Scatter(
            x=(cols.ravel() * step_x + width * zoom / 2).tolist(),
            y=(rows.ravel() * step_y + height * zoom / 2).tolist(),
            mode="markers",
            marker=dict(size=max(12, height * zoom * 0.9), symbol="square", opacity=0.01, color="black"),
            customdata=np.stack([rows.ravel(), cols.ravel()], axis=1),
            hovertext=text,
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        # two lines, so the title fits a half-width column (the Neuron page's exemplars) too
        title=dict(text=f"Top-{k} patches of {result.layer}<br><sup>{result.rf_size[0]}×{result.rf_size[1]} px field, over {result.collection}</sup>"),
        margin=dict(l=70, r=10, t=60, b=10),
        height=int(channels * step_y + 100),
        dragmode=False,
    )
    image_axes(fig)
    # the one image panel that keeps y labels: each row is named by its channel
    fig.update_yaxes(showticklabels=True, tickvals=[r * step_y + height * zoom / 2 for r in range(channels)], ticktext=[f"ch {c}" for c in result.channels], constrain="domain")
    fig.update_xaxes(range=[-2, canvas.shape[1] + 2], constrain="domain")
    return fig


def receptive_field_figure(gradient: np.ndarray, box: Sequence[int], title: str = "", height: int = 360) -> go.Figure:
    """|gradient| of one unit over the input (how much each pixel can move it) with its support box."""
    values = np.asarray(gradient, dtype=np.float64)
    fig = go.Figure(go.Heatmap(z=values, hovertemplate="x=%{x}, y=%{y}<br>|gradient| (relative)=%{z:.3g}<extra></extra>", colorbar=dict(thickness=12), **colour_scale(values, False, limit=1.0)))
    fig.update_layout(title=title, margin=MARGIN, height=height)
    return add_box(image_axes(fig), box, "#ff006e", 2)


@draws(ReceptiveField)
def measured_field_figure(result: ReceptiveField, height: int = 360) -> go.Figure:
    """A measured receptive field: where the layer's centre unit looks, and how strongly."""
    size = f"{result.size[0]}×{result.size[1]} px" + (", the whole input" if result.is_global else "")
    return receptive_field_figure(result.gradient, result.box, f"receptive field of {result.layer} at {result.centre}: {size}", height)


def embedding_scatter(
    coords: np.ndarray,
    groups: Sequence[str],
    hover: Sequence[str],
    title: str = "",
    *,
    max_groups: int = 10,
    highlight: int | None = None,
    height: int = 560,
) -> go.Figure:
    """2-D map of images, one trace per most frequent group (the rest as "other"), WebGL when large.

    Each point's customdata is its row, so a selection can show the images.
    """
    coords = np.asarray(coords)
    groups = np.asarray(groups, dtype=object)
    names, counts = np.unique(groups, return_counts=True)
    top = [str(n) for n in names[np.argsort(-counts, kind="stable")][:max_groups]]
    top.sort(key=lambda s: (len(s), s) if s.isdigit() else (0, s))
    large = len(coords) > 1000
    scatter = go.Scattergl if large else go.Scatter
    fig = go.Figure()
    hover = np.asarray(hover, dtype=object)
    for i, name in enumerate(top + ["other"]):
        rows = np.flatnonzero(groups == name) if name != "other" else np.flatnonzero(~np.isin(groups, top))
        if rows.size == 0:
            continue
        fig.add_trace(
            scatter(
                x=coords[rows, 0],
                y=coords[rows, 1],
                mode="markers",
                name=f"{name} ({rows.size})",
                marker=dict(size=6 if large else 8, color=QUALITATIVE[min(i, len(QUALITATIVE) - 1)] if name != "other" else "#c7c7c7", opacity=0.8),
                customdata=rows,
                hovertext=hover[rows],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    if highlight is not None:
        fig.add_trace(go.Scatter(x=[coords[highlight, 0]], y=[coords[highlight, 1]], mode="markers", name="chosen image", marker=dict(size=16, symbol="star", color="black", line=dict(color="white", width=1)), hoverinfo="skip"))
    fig.update_layout(title=title, margin=MARGIN, height=height, dragmode="lasso", legend=dict(itemsizing="constant"))
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False)
    return fig


@draws(Projection)
def projection_figure(
    result: Projection, groups: Sequence[str] | None = None, hover: Sequence[str] | None = None, *, highlight: int | None = None, height: int = 560
) -> go.Figure:
    """A projection's points, coloured by `groups` (e.g. labels) when given, hover naming each row."""
    count = len(result.coords)
    groups = groups if groups is not None else ["all"] * count
    hover = hover if hover is not None else [f"row {i}" for i in range(count)]
    title = f"{PROJECTION_NAMES.get(result.method, result.method)} of {count} points"
    return embedding_scatter(result.coords, groups, hover, title, highlight=highlight, height=height)
