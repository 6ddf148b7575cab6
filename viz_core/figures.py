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

from .results import (
    Adversarial,
    AttackSweep,
    DigitsFooling,
    DimensionGain,
    Filters,
    LinearFooling,
    StyleTransfer,
    Synthesis,
    TopPatches,
)

DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"
_MARGIN = dict(l=10, r=10, t=40, b=10)


def _hide_axes(fig: go.Figure) -> go.Figure:
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="", scaleanchor="x", autorange="reversed")
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
    series = values if len(values) and isinstance(values[0], (list, tuple, np.ndarray)) else [values]
    fig = go.Figure()
    for i, line in enumerate(series):
        fig.add_trace(go.Scatter(y=list(line), mode="lines", name=names[i] if names else y_label))
    fig.update_layout(title=title, margin=_MARGIN, height=300, xaxis_title=x_label, yaxis_title=y_label, showlegend=len(series) > 1)
    return fig


def normalised(heat: np.ndarray, signed: bool, quantile: float = 0.995) -> np.ndarray:
    """A map divided by its robust maximum |value|: signed maps land in [-1, 1], magnitudes in [0, 1].

    Why: gradients of different rules differ by orders of magnitude; dividing each by its own
    99.5th percentile lets them share one colour scale and still be compared by pattern.
    """
    heat = np.asarray(heat, dtype=np.float64)
    limit = symmetric_range([heat], quantile)
    return np.clip(heat / limit, -1.0 if signed else 0.0, 1.0)


def gradient_picture(attribution: np.ndarray) -> np.ndarray:
    """A (C, H, W) signed gradient as an HxWx3 uint8 picture, grey = 0 (as guided-backprop papers show it)."""
    values = np.asarray(attribution, dtype=np.float64)
    if values.shape[0] == 1:
        values = np.repeat(values, 3, axis=0)
    picture = 0.5 + 0.5 * np.clip(values / symmetric_range([values]), -1, 1)
    return (np.moveaxis(picture, 0, -1) * 255).round().astype(np.uint8)


def attribution_panels(panels: Sequence[tuple[str, np.ndarray, bool]], columns: int = 3, height_per_row: int = 300, title: str = "") -> go.Figure:
    """Maps side by side on ONE diverging scale: each (title, HxW map, signed) is normalised first.

    Hover shows the raw value in the map's own units next to the normalised one.
    """
    count = max(len(panels), 1)
    rows = (count + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=min(columns, count), subplot_titles=[p[0] for p in panels], horizontal_spacing=0.02, vertical_spacing=0.08)
    for i, (_, heat, signed) in enumerate(panels):
        fig.add_trace(
            go.Heatmap(
                z=normalised(heat, signed),
                customdata=np.asarray(heat, dtype=np.float64),
                coloraxis="coloraxis",
                hovertemplate="x=%{x}, y=%{y}<br>relative %{z:.2f}<br>raw %{customdata:.3g}<extra></extra>",
            ),
            row=i // columns + 1,
            col=i % columns + 1,
        )
    fig.update_layout(
        title=dict(text=title, y=0.99, yanchor="top"),
        margin=dict(l=10, r=10, t=70, b=10),
        height=rows * height_per_row + 70,
        coloraxis=dict(colorscale=DIVERGING, cmin=-1, cmax=1, colorbar=dict(thickness=12, title="relative")),
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for i in range(1, count + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // columns + 1, col=(i - 1) % columns + 1)
    return fig


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
    limit = symmetric_range([values], 1.0)
    fig = go.Figure(go.Image(z=np.asarray(picture), hoverinfo="skip"))
    fig.add_trace(
        go.Heatmap(
            z=values,
            x=np.asarray(centers_x),
            y=np.asarray(centers_y),
            colorscale=DIVERGING if signed else SEQUENTIAL,
            zmin=-limit if signed else float(values.min()),
            zmax=limit if signed else float(values.max()),
            zmid=0 if signed else None,
            opacity=opacity,
            hovertemplate=f"patch centre x=%{{x}}, y=%{{y}}<br>%{{z:.4g}}{(' ' + unit) if unit else ''}<extra></extra>",
            colorbar=dict(thickness=12),
        )
    )
    fig.update_layout(title=title, margin=_MARGIN, height=height)
    return _hide_axes(fig)


def position_picker(values: np.ndarray, y: int, x: int, title: str = "", height: int = 300) -> go.Figure:
    """A channel's (h, w) activations with one clickable point per cell and the chosen cell ringed.

    Why points: heatmap cells report no selection to a dashboard, scatter points do; the points
    are invisible, so the map looks like a map.
    """
    grid = np.asarray(values, dtype=np.float64)
    rows, columns = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    fig = go.Figure(go.Heatmap(z=grid, colorscale=SEQUENTIAL, hoverinfo="skip", colorbar=dict(thickness=10)))
    fig.add_trace(
        go.Scatter(
            x=columns.ravel(),
            y=rows.ravel(),
            mode="markers",
            marker=dict(size=max(4, min(24, 240 // max(grid.shape))), color="rgba(0,0,0,0)"),
            customdata=grid.ravel(),
            hovertemplate="row y=%{y}, column x=%{x}<br>activation %{customdata:.4g}<br>click to pick<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(x=[x], y=[y], mode="markers", marker=dict(size=14, symbol="circle-open", color="#00c2ff", line=dict(width=3)), hoverinfo="skip", showlegend=False)
    )
    fig.update_layout(title=title, margin=_MARGIN, height=height, clickmode="event+select", dragmode=False)
    return _hide_axes(fig)


def class_map(
    picture: np.ndarray,
    classes: np.ndarray,
    probability: np.ndarray,
    names: dict[int, str],
    centers_y: np.ndarray,
    centers_x: np.ndarray,
    title: str = "",
    *,
    opacity: float = 0.6,
    height: int = 420,
) -> go.Figure:
    """Which class wins at each grid position: one colour per class, named in the legend bar."""
    from plotly.colors import qualitative

    present = [k for k in names if (classes == k).any()] or list(names)[:1]
    index = {k: i for i, k in enumerate(present)}
    codes = np.vectorize(lambda k: index.get(int(k), 0))(classes).astype(float)
    palette = (qualitative.Plotly + qualitative.Dark24) * 4
    count = len(present)
    scale = []
    for i in range(count):
        scale += [[i / count, palette[i]], [(i + 1) / count, palette[i]]]
    labels = np.vectorize(lambda k: names.get(int(k), str(k)))(classes)
    fig = go.Figure(go.Image(z=np.asarray(picture), hoverinfo="skip"))
    fig.add_trace(
        go.Heatmap(
            z=codes,
            x=np.asarray(centers_x),
            y=np.asarray(centers_y),
            colorscale=scale,
            zmin=-0.5,
            zmax=count - 0.5,
            opacity=opacity,
            customdata=np.dstack([labels, np.asarray(probability, dtype=np.float64)]),
            hovertemplate="%{customdata[0]}<br>p=%{customdata[1]:.1%}<extra></extra>",
            colorbar=dict(thickness=12, tickvals=list(range(count)), ticktext=[names[k][:28] for k in present]),
        )
    )
    fig.update_layout(title=title, margin=_MARGIN, height=height)
    return _hide_axes(fig)


def segmentation_panels(picture: np.ndarray, saliency_map: np.ndarray, seeds: np.ndarray, mask: np.ndarray, title: str = "") -> go.Figure:
    """Saliency, GrabCut seeds (red = sure background, green = sure foreground) and the mask overlay."""
    base = np.asarray(picture, dtype=np.float64)
    seeded = base * 0.45
    seeded[seeds == 0] = [220, 40, 40]
    seeded[seeds == 1] = [40, 200, 60]
    overlay = np.where(np.asarray(mask)[..., None], base, base * 0.25 + np.array([0, 0, 60]))
    fig = make_subplots(rows=1, cols=3, subplot_titles=["saliency", "seeds", "GrabCut mask"], horizontal_spacing=0.02)
    fig.add_trace(go.Heatmap(z=normalised(saliency_map, False), colorscale=SEQUENTIAL, showscale=False, hovertemplate="x=%{x}, y=%{y}<br>relative %{z:.2f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Image(z=seeded.clip(0, 255).astype(np.uint8), hovertemplate="x=%{x}, y=%{y}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Image(z=overlay.clip(0, 255).astype(np.uint8), hovertemplate="x=%{x}, y=%{y}<extra></extra>"), row=1, col=3)
    fig.update_layout(title=dict(text=title, y=0.99, yanchor="top"), margin=dict(l=10, r=10, t=70, b=10), height=400)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for i in (1, 2, 3):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=1, col=i)
    return fig


def synthesis_curve(result: Synthesis, y_label: str, title: str = "Score during optimisation") -> go.Figure:
    """The objective at every step of an image optimisation, with the step of the returned picture marked."""
    fig = curve(list(result.scores), title, y_label)
    if 0 <= result.best_step < len(result.scores):
        fig.add_trace(go.Scatter(x=[result.best_step], y=[result.scores[result.best_step]], mode="markers", name="best", marker=dict(size=9, color="#d62728"), hovertemplate="best: step %{x}, %{y:.4g}<extra></extra>"))
    return fig


def reconstructions(original: np.ndarray, pictures: Sequence[np.ndarray], titles: Sequence[str], title: str = "") -> go.Figure:
    """The original beside its reconstructions (feature inversion from several depths)."""
    return image_grid([original, *pictures], ["original", *titles], columns=len(pictures) + 1, height_per_row=300, title=title)


def _tile_canvas(tiles: np.ndarray, rows: int, columns: int, gap: int, fill: float | int) -> np.ndarray:
    """(R*C, h, w, ...) tiles -> one canvas with `gap` pixels between them, row-major."""
    count, height, width = tiles.shape[:3]
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, *tiles.shape[3:]), fill, dtype=tiles.dtype)
    for i in range(count):
        r, c = divmod(i, columns)
        canvas[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = tiles[i]
    return canvas


def filters_picture(result: Filters, tile: int = 48) -> np.ndarray:
    """RGB filter tiles enlarged (nearest neighbour) into one square-ish uint8 picture."""
    zoom = max(1, tile // result.tiles.shape[1])
    tiles = result.tiles.repeat(zoom, axis=1).repeat(zoom, axis=2)
    columns = int(np.ceil(np.sqrt(len(tiles))))
    rows = int(np.ceil(len(tiles) / columns))
    return _tile_canvas(tiles, rows, columns, max(2, zoom // 2), 255)


def filters_figure(result: Filters) -> go.Figure:
    """RGB filter tiles in a square-ish grid, or a filters × input-channels grid of signed kernels."""
    if result.mode == "rgb":
        canvas = filters_picture(result)
        rows = int(np.ceil(len(result.tiles) / np.ceil(np.sqrt(len(result.tiles)))))
        return image(canvas, f"{result.layer}: {len(result.tiles)} of {result.weight_shape[0]} filters as {'RGB' if result.shown[1] == 3 else 'grey'} ({result.scale} scale)", height=max(320, 60 * rows + 60))
    kernels = result.kernels  # F, I, kh, kw
    n_filters, n_inputs, kh, kw = kernels.shape
    cells = kernels.reshape(n_filters * n_inputs, kh, kw)
    canvas = _tile_canvas(cells.astype(np.float64), n_filters, n_inputs, 1, np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=canvas,
            colorscale=DIVERGING,
            zmin=-1,
            zmax=1,
            zmid=0,
            hovertemplate="weight (scaled)=%{z:.3f}<extra></extra>",
            colorbar=dict(thickness=12, title="scaled"),
        )
    )
    fig.update_layout(
        title=f"{result.layer}: {n_filters} filters (rows) × {n_inputs} input channels (columns) of {result.weight_shape}, {result.scale} scale",
        margin=_MARGIN,
        height=int(min(1400, max(320, n_filters * (kh + 1) * 6 + 80))),
    )
    return _hide_axes(fig)


def top_patches_figure(result: TopPatches, zoom_to: int = 72) -> go.Figure:
    """One row of k patches per channel, best on the left (the lecture's pool5 picture).

    Transparent markers over the patches carry (row, column) so a click can select a patch.
    """
    channels, k, height, width = result.patches.shape[:4]
    zoom = max(1, zoom_to // max(height, width))
    tiles = result.patches.repeat(zoom, axis=2).repeat(zoom, axis=3).reshape(channels * k, height * zoom, width * zoom, 3)
    gap = 4
    canvas = _tile_canvas(tiles, channels, k, gap, 255)
    fig = go.Figure(go.Image(z=canvas, hoverinfo="skip"))
    step_y, step_x = height * zoom + gap, width * zoom + gap
    rows, cols = np.meshgrid(np.arange(channels), np.arange(k), indexing="ij")
    text = [
        f"channel {result.channels[r]}, rank {c + 1}<br>{result.image_names[r, c]} ({result.image_labels[r, c]})<br>max response {result.values[r, c]:.3g}"
        for r, c in zip(rows.ravel(), cols.ravel())
    ]
    fig.add_trace(
        go.Scatter(
            x=(cols.ravel() * step_x + height * zoom / 2).tolist(),
            y=(rows.ravel() * step_y + width * zoom / 2).tolist(),
            mode="markers",
            marker=dict(size=max(12, height * zoom * 0.9), symbol="square", opacity=0.01, color="black"),
            customdata=np.stack([rows.ravel(), cols.ravel()], axis=1),
            hovertext=text,
            hovertemplate="%{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=f"Top-{k} patches of {result.layer} ({result.rf_size[0]}×{result.rf_size[1]} px field) over {result.collection}",
        margin=dict(l=70, r=10, t=40, b=10),
        height=int(channels * step_y + 80),
        dragmode=False,
        yaxis=dict(tickvals=[r * step_y + height * zoom / 2 for r in range(channels)], ticktext=[f"ch {c}" for c in result.channels]),
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-2, canvas.shape[1] + 2], constrain="domain")
    fig.update_yaxes(showgrid=False, zeroline=False, scaleanchor="x", autorange="reversed", constrain="domain")
    return fig


def image_with_box(picture: np.ndarray, box: Sequence[int], title: str = "", height: int = 360) -> go.Figure:
    """A picture with one rectangle (top, left, bottom, right; exclusive) drawn on it."""
    fig = image(picture, title, height)
    top, left, bottom, right = (float(v) for v in box)
    fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5, line=dict(color="#ffd60a", width=3))
    return fig


def receptive_field_figure(gradient: np.ndarray, box: Sequence[int], title: str = "", height: int = 360) -> go.Figure:
    """|gradient| of one unit over the input (how much each pixel can move it) with its support box."""
    fig = go.Figure(go.Heatmap(z=np.asarray(gradient, dtype=np.float64), colorscale=SEQUENTIAL, zmin=0, zmax=1, hovertemplate="x=%{x}, y=%{y}<br>|gradient| (relative)=%{z:.3g}<extra></extra>", colorbar=dict(thickness=12)))
    top, left, bottom, right = (float(v) for v in box)
    fig.add_shape(type="rect", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5, line=dict(color="#ff006e", width=2))
    fig.update_layout(title=title, margin=_MARGIN, height=height)
    return _hide_axes(fig)


_QUALITATIVE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#7f7f7f")


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
    scatter = go.Scattergl if len(coords) > 1000 else go.Scatter
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
                marker=dict(size=6 if len(coords) > 1000 else 8, color=_QUALITATIVE[min(i, len(_QUALITATIVE) - 1)] if name != "other" else "#c7c7c7", opacity=0.8),
                customdata=rows,
                hovertext=hover[rows],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    if highlight is not None:
        fig.add_trace(go.Scatter(x=[coords[highlight, 0]], y=[coords[highlight, 1]], mode="markers", name="chosen image", marker=dict(size=16, symbol="star", color="black", line=dict(color="white", width=1)), hoverinfo="skip"))
    fig.update_layout(title=title, margin=_MARGIN, height=height, dragmode="lasso", legend=dict(itemsizing="constant"))
    fig.update_xaxes(showticklabels=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, zeroline=False)
    return fig


# --- linear fooling, adversarial images and neural style ---


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
        margin=dict(l=10, r=10, t=50, b=10),
        height=440,
        legend=dict(orientation="h", y=-0.08, yanchor="top", x=0.5, xanchor="center"),
    )
    return fig


def digit_panels(result: DigitsFooling, height: int = 300) -> go.Figure:
    """Clean digit, perturbation (signed, its own scale) and adversarial digit as 8×8 pixel grids."""
    limit = max(float(np.abs(result.perturbation).max()), 1e-12)
    titles = (
        f"digit (label {result.label}, predicted {result.source})",
        f"perturbation (±{result.eps:.3g})",
        f"adversarial (predicted {int(np.argmax(result.probs_after))})",
    )
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.1)
    grey = dict(colorscale="Greys", zmin=0.0, zmax=1.0, showscale=False, hovertemplate="x=%{x}, y=%{y}<br>ink=%{z:.3f}<extra></extra>")
    fig.add_trace(go.Heatmap(z=result.image, **grey), row=1, col=1)
    fig.add_trace(
        go.Heatmap(
            z=result.perturbation,
            colorscale=DIVERGING,
            zmin=-limit,
            zmax=limit,
            zmid=0,
            colorbar=dict(thickness=10, x=0.64, xanchor="left", len=0.8),
            hovertemplate="x=%{x}, y=%{y}<br>change=%{z:+.3f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(go.Heatmap(z=result.adversarial, **grey), row=1, col=3)
    frame = dict(showticklabels=False, showgrid=False, zeroline=False, showline=True, mirror=True, linecolor="#bbb")
    fig.update_xaxes(**frame)
    fig.update_yaxes(**frame, autorange="reversed")
    for i in range(1, 4):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=1, col=i)
    fig.update_layout(margin=_MARGIN, height=height)
    return fig


def probability_comparison(labels: Sequence[str], before: Sequence[float], after: Sequence[float], title: str = "Class probabilities before and after") -> go.Figure:
    """Grouped horizontal bars: each class's probability for the clean and the adversarial input."""
    labels, before, after = list(labels)[::-1], list(before)[::-1], list(after)[::-1]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=labels, x=before, orientation="h", name="before", marker_color="#8d99ae", hovertemplate="%{y}: %{x:.2%}<extra>before</extra>"))
    fig.add_trace(go.Bar(y=labels, x=after, orientation="h", name="after", marker_color="#d62828", hovertemplate="%{y}: %{x:.2%}<extra>after</extra>"))
    fig.update_layout(
        title=title,
        barmode="group",
        margin=dict(l=10, r=10, t=40, b=10),
        height=max(280, 30 * len(labels) + 110),
        xaxis=dict(range=[0, 1], tickformat=".0%", title="probability"),
        yaxis=dict(type="category"),
        legend=dict(orientation="h", y=-0.22, yanchor="top", x=0.5, xanchor="center"),
    )
    return fig


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
    levels = result.eps * 255
    eps_text = f"{levels:.3g}/255" if abs(levels - round(levels)) < 1e-9 and levels >= 1 else f"{result.eps:.3g}"
    fig.update_layout(
        title=f"Score change from moving every input by ε = {eps_text}",
        xaxis=dict(type="log", title="input dimension d"),
        yaxis=dict(type="log", title="|change of the score|"),
        margin=_MARGIN,
        height=360,
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def _eps_text(eps: float, norm: str) -> str:
    """A budget as people quote it: grey levels of 255 for L∞, the plain length for L2."""
    return f"{eps * 255:.3g}/255" if norm == "linf" else f"{eps:.3g} (L2)"


def amplified(perturbation: np.ndarray, limit: float) -> np.ndarray:
    """A signed HxWx3 change as a picture: grey is no change, ±`limit` the darkest/brightest."""
    limit = limit if limit > 0 else 1.0
    return (np.clip(0.5 + 0.5 * np.asarray(perturbation, dtype=np.float64) / limit, 0, 1) * 255).round().astype(np.uint8)


def adversarial_panels(result: Adversarial, class_names: Sequence[str], height: int = 320) -> go.Figure:
    """Original, amplified perturbation (scale in the title) and adversarial picture side by side."""
    limit = float(np.abs(result.perturbation).max()) or 1.0
    before, after = result.label, int(np.argmax(result.probs_after))
    titles = [
        f"original: {class_names[before][:28]} ({result.probs_before[before]:.0%})",
        f"change ×{0.5 / limit:.0f} (grey = 0, ±{limit * 255:.2g}/255)",
        f"adversarial: {class_names[after][:28]} ({result.probs_after[after]:.0%})",
    ]
    pictures = [result.original, amplified(result.perturbation, limit), result.adversarial]
    return image_grid(pictures, titles, columns=3, height_per_row=height)


def top_classes(probs_before: np.ndarray, probs_after: np.ndarray, k: int = 5, extra: Sequence[int] = ()) -> list[int]:
    """The union of the top-k classes before and after (and any `extra`), most probable before first."""
    chosen = list(np.argsort(probs_before)[::-1][:k]) + list(np.argsort(probs_after)[::-1][:k]) + list(extra)
    return [int(c) for c in dict.fromkeys(chosen)]


def attack_sweep(result: AttackSweep) -> go.Figure:
    """Fraction of images attacked successfully against ε, with each image's goal probability."""
    x = result.epsilons * 255 if result.norm == "linf" else result.epsilons
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=x, y=result.success_rate, mode="lines+markers", name="success rate", line=dict(width=4, color="#d62828"), hovertemplate="ε=%{x:.3g}<br>success %{y:.0%}<extra></extra>"),
        secondary_y=False,
    )
    what = "p(target)" if result.target is not None else "p(clean class)"
    for i, name in enumerate(result.names):
        fig.add_trace(
            go.Scatter(x=x, y=result.goal_prob[i], mode="lines", name=f"{what}: {name}", line=dict(dash="dot", width=1.5), opacity=0.7, hovertemplate=f"{name}<br>ε=%{{x:.3g}}<br>{what}=%{{y:.1%}}<extra></extra>"),
            secondary_y=True,
        )
    goal = "reach the target" if result.target is not None else "change the prediction"
    fig.update_layout(
        title=f"Attacks that {goal} ({len(result.names)} images, {result.steps} PGD steps, {'L∞' if result.norm == 'linf' else 'L2'})",
        margin=_MARGIN,
        height=380,
        legend=dict(orientation="h", y=-0.25),
        xaxis_title="ε (grey levels of 255)" if result.norm == "linf" else "ε (L2 length, pixel units)",
    )
    fig.update_yaxes(title_text="success rate", range=[-0.03, 1.03], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text=what, range=[-0.03, 1.03], tickformat=".0%", secondary_y=True, showgrid=False)
    return fig


def style_losses(result: StyleTransfer) -> go.Figure:
    """Relative content, style and total-variation losses per step (log scale)."""
    fig = go.Figure()
    for name, values, colour in (("style (Gram)", result.style_loss, "#d62828"), ("content", result.content_loss, "#2a6f97"), ("total variation", result.tv_loss, "#8d99ae")):
        fig.add_trace(go.Scatter(y=np.maximum(values, 1e-6), mode="lines", name=name, line=dict(color=colour), hovertemplate=f"step %{{x}}<br>{name}: %{{y:.3g}}<extra></extra>"))
    fig.update_layout(
        title=f"Losses per step (style fell {result.metrics['style_drop']:.0%})",
        xaxis_title="step",
        yaxis=dict(type="log", title="relative loss"),
        margin=_MARGIN,
        height=320,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig
