"""Figures of attributions: backprop maps, Grad-CAM, occlusion, GrabCut segmentation, position picking.

All maps of one figure share one colour scale: signed maps (gradients) diverge around zero,
magnitudes (saliency, Grad-CAM) run from zero, and hover shows the raw value next to it.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from ..results import Attribution, GradCam, OcclusionMap, Segmentation
from .base import MARGIN, cell, heatmap_overlay, grid_overlay, image_axes, overlay, panel_grid
from .dispatch import draws
from .display import DIVERGING, colour_scale, normalised

METHOD_NAMES = {
    "vanilla": "vanilla gradient",
    "guided": "guided backprop",
    "deconvnet": "deconvnet",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients": "integrated gradients",
    "gradient_x_input": "gradient × input",
    "guided_grad_cam": "guided Grad-CAM",
}


def attribution_title(result: Attribution) -> str:
    """What the map is, of what, and where a rule could not act (so a plain gradient is never passed off)."""
    name = METHOD_NAMES.get(result.method, result.method.replace("_", " "))
    if result.method == "smoothgrad" and result.rule != "vanilla":
        name += f" of {METHOD_NAMES.get(result.rule, result.rule)}"
    parts = [name, f"target: {result.target}"] + [f"{key}: {result.params[key]}" for key in ("layer", "baseline") if key in result.params]
    title = ", ".join(parts)
    if result.rule != "vanilla" and result.rule_applied == 0:
        title += f" (the {result.rule} rule found no activation: this is the plain gradient)"
    return title


def attribution_panels(panels: Sequence[tuple[str, np.ndarray, bool]], columns: int = 3, height_per_row: int = 300, title: str = "") -> go.Figure:
    """Maps side by side on ONE diverging scale: each (title, HxW map, signed) is normalised first.

    Hover shows the raw value in the map's own units next to the normalised one.
    """
    fig = panel_grid([p[0] for p in panels], columns, height_per_row, title)
    for i, (_, heat, signed) in enumerate(panels):
        fig.add_trace(
            go.Heatmap(
                z=normalised(heat, signed),
                customdata=np.asarray(heat, dtype=np.float64),
                coloraxis="coloraxis",
                hovertemplate="x=%{x}, y=%{y}<br>relative %{z:.2f}<br>raw %{customdata:.3g}<extra></extra>",
            ),
            **cell(i, columns),
        )
    fig.update_layout(coloraxis=dict(colorscale=DIVERGING, cmin=-1, cmax=1, colorbar=dict(thickness=12, title="relative")))
    return fig


@draws(Attribution)
def attribution_figure(result: Attribution, *, signed: bool = True, height: int = 380) -> go.Figure:
    """The picture the model saw beside its attribution, in the attribution's own units.

    `signed`: the channel sum on the diverging scale; else the saliency max_c |attribution|.
    """
    heat, what = (result.map, "sum over channels") if signed else (result.saliency, "max over channels of |value|")
    fig = panel_grid(["input", what], 2, height, attribution_title(result))
    fig.add_trace(go.Image(z=result.image, hovertemplate="x=%{x}, y=%{y}<extra></extra>"), **cell(0, 2))
    fig.add_trace(
        go.Heatmap(z=np.asarray(heat, dtype=np.float64), hovertemplate="x=%{x}, y=%{y}<br>%{z:.3g}<extra></extra>", colorbar=dict(thickness=12), **colour_scale(heat, signed)),
        **cell(1, 2),
    )
    return fig


@draws(GradCam)
def grad_cam_figure(result: GradCam, *, opacity: float = 0.5, height: int = 380) -> go.Figure:
    """Grad-CAM (Selvaraju et al., 2017) upsampled over the picture: where the layer holds evidence for the target."""
    return heatmap_overlay(result.image, result.upsampled, f"Grad-CAM, target: {result.target}, layer: {result.layer}", opacity=opacity, height=height)


def position_picker(values: np.ndarray, y: int, x: int, title: str = "", height: int = 300) -> go.Figure:
    """A channel's (h, w) activations with one clickable point per cell and the chosen cell ringed.

    Why points: heatmap cells report no selection to a dashboard, scatter points do; the points
    are invisible, so the map looks like a map.
    """
    grid = np.asarray(values, dtype=np.float64)
    rows, columns = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    fig = go.Figure(go.Heatmap(z=grid, hoverinfo="skip", colorbar=dict(thickness=10), **colour_scale(grid, False)))
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
    fig.update_layout(title=title, margin=MARGIN, height=height, clickmode="event+select", dragmode=False)
    return image_axes(fig)


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
    present = [k for k in names if (classes == k).any()] or list(names)[:1]
    index = {k: i for i, k in enumerate(present)}
    codes = np.vectorize(lambda k: index.get(int(k), 0))(classes).astype(float)
    palette = (qualitative.Plotly + qualitative.Dark24) * 4
    count = len(present)
    scale = []
    for i in range(count):  # one flat band per class
        scale += [[i / count, palette[i]], [(i + 1) / count, palette[i]]]
    labels = np.vectorize(lambda k: names.get(int(k), str(k)))(classes)
    trace = go.Heatmap(
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
    return overlay(picture, trace, title, height)


@draws(OcclusionMap)
def occlusion_figure(result: OcclusionMap, *, winner: bool = False, opacity: float = 0.6, height: int = 420) -> go.Figure:
    """Occlusion (Zeiler & Fergus, 2014): how much hiding each patch lowers the target's score.

    `winner=True` shows instead which class wins with the patch at each position.
    """
    settings = [f"{key} {value}" if key != "fill" else str(value) for key, value in result.params.items() if key in ("patch", "stride", "fill")]
    how = f" ({', '.join(settings)})" if settings else ""
    if winner and not result.class_names:  # a backbone without a classifier head: no class can win
        return grid_overlay(result.image, result.drop, result.centers_y, result.centers_x, f"occlusion: drop of {result.target}{how}; no winning class (the model has no classifier head)", opacity=opacity, height=height)
    if winner:
        return class_map(result.image, result.winner, result.winner_probability, result.class_names, result.centers_y, result.centers_x, f"most probable class with the patch at each position{how}", opacity=opacity, height=height)
    return grid_overlay(result.image, result.drop, result.centers_y, result.centers_x, f"occlusion: drop of {result.target}{how}", opacity=opacity, height=height)


def segmentation_panels(picture: np.ndarray, saliency_map: np.ndarray, seeds: np.ndarray, mask: np.ndarray, title: str = "") -> go.Figure:
    """Saliency, GrabCut seeds (red = sure background, green = sure foreground) and the mask overlay."""
    base = np.asarray(picture, dtype=np.float64)
    seeded = base * 0.45
    seeded[seeds == 0] = [220, 40, 40]
    seeded[seeds == 1] = [40, 200, 60]
    shaded = np.where(np.asarray(mask)[..., None], base, base * 0.25 + np.array([0, 0, 60]))
    heat = normalised(saliency_map, False)
    fig = panel_grid(["saliency", "seeds", "GrabCut mask"], 3, 330, title)
    fig.add_trace(go.Heatmap(z=heat, showscale=False, hovertemplate="x=%{x}, y=%{y}<br>relative %{z:.2f}<extra></extra>", **colour_scale(heat, False, limit=1.0)), **cell(0, 3))
    for i, shown in ((1, seeded), (2, shaded)):
        fig.add_trace(go.Image(z=shown.clip(0, 255).astype(np.uint8), hovertemplate="x=%{x}, y=%{y}<extra></extra>"), **cell(i, 3))
    return fig


@draws(Segmentation)
def segmentation_figure(result: Segmentation, *, title: str | None = None) -> go.Figure:
    """GrabCut seeded by saliency (Simonyan et al., 2014, §6): the map, its seeds and the object mask."""
    return segmentation_panels(result.image, result.saliency, result.seeds, result.mask, title or f"GrabCut from saliency: foreground {result.foreground_share:.0%} of the image")
