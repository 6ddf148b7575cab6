"""Figures of a model on a labelled collection, and of why one mistake happened.

Every chart a user can click to drill down (confusion cells, confused pairs, histogram bars)
carries what it selects in `customdata`, so a dashboard reads the selection without knowing
how the chart was drawn. Heatmap cells report no selection to a dashboard, so the confusion
matrix has one invisible point per cell on top.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ..attribution.contrast import Contrast
from ..dataset.evaluate import Evaluation, confused_classes
from .base import MARGIN, cell, panel_grid
from .dispatch import draws
from .display import DIVERGING, SEQUENTIAL, symmetric_range

RIGHT, WRONG = "#2a9d8f", "#e76f51"
MAX_MATRIX = 30  # above this many classes a full matrix is unreadable: show the most confused ones


def _short(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def confusion_figure(ev: Evaluation, classes: Sequence[int] | None = None, *, height: int | None = None) -> go.Figure:
    """Confusion matrix (rows: true class, columns: predicted), coloured by the share of each row.

    `classes` (model class ids) restricts it to a sub-matrix; by default all of `ev.classes`
    up to MAX_MATRIX, else the classes of the most-confused pairs. Colour is the fraction of the
    true class's images (so a rare class's confusions show as clearly as a common one's); hover
    and text give the counts. Each cell's point carries [true, predicted, count].
    """
    chosen = np.asarray(list(classes) if classes is not None else (ev.classes if len(ev.classes) <= MAX_MATRIX else confused_classes(ev, 12)), dtype=np.int64)
    position = {int(k): i for i, k in enumerate(ev.classes)}
    rows = [position[int(k)] for k in chosen if int(k) in position]
    chosen = ev.classes[rows]
    counts = ev.confusion[np.ix_(rows, rows)].astype(np.float64)
    totals = ev.confusion[rows].sum(axis=1, keepdims=True).astype(np.float64)  # all of the row, also outside the sub-matrix
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, counts / totals, 0.0)
    labels = [_short(ev.class_names[k]) if ev.class_names[k] == str(k) else f"{k}: {_short(ev.class_names[k])}" for k in chosen]
    n = len(chosen)
    true_grid, predicted_grid = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=list(range(n)),
            y=list(range(n)),
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=1,
            text=counts.astype(np.int64) if n <= 20 else None,
            texttemplate="%{text}" if n <= 20 else None,
            hoverinfo="skip",
            colorbar=dict(thickness=12, title="share of<br>true class", tickformat=".0%"),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=predicted_grid.ravel(),
            y=true_grid.ravel(),
            mode="markers",
            marker=dict(size=max(6, min(30, 420 // max(n, 1))), symbol="square", color="rgba(0,0,0,0)"),
            customdata=np.stack([chosen[true_grid.ravel()], chosen[predicted_grid.ravel()], counts.ravel().astype(np.int64)], axis=1),
            text=[f"true {labels[t]}<br>predicted {labels[p]}" for t, p in zip(true_grid.ravel(), predicted_grid.ravel())],
            hovertemplate="%{text}<br>%{customdata[2]} images<br>click to see them<extra></extra>",
            showlegend=False,
        )
    )
    subset = "" if n == len(ev.classes) else f" ({n} of {len(ev.classes)} classes: those of the most-confused pairs)"
    side = height or int(min(900, max(380, 26 * n + 160)))
    fig.update_layout(
        title=f"Confusion matrix of {ev.model} on {ev.collection}{subset}",
        margin={**MARGIN, "l": 10, "b": 10},
        height=side,
        clickmode="event+select",
        dragmode=False,
        xaxis=dict(title="predicted class", tickmode="array", tickvals=list(range(n)), ticktext=labels, tickangle=-45 if max(map(len, labels), default=0) > 3 else 0, showgrid=False, zeroline=False),
        yaxis=dict(title="true class", tickmode="array", tickvals=list(range(n)), ticktext=labels, autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x"),
    )
    return fig


def pairs_figure(ev: Evaluation, limit: int = 15) -> go.Figure:
    """The most-confused (true → predicted) pairs as bars, worst on top; each bar carries [true, predicted, count]."""
    pairs = ev.confused_pairs[:limit]
    names = [f"{_short(ev.class_names[t])} → {_short(ev.class_names[p])}" for t, p, _ in pairs][::-1]
    fig = go.Figure(
        go.Bar(
            x=pairs[::-1, 2] if len(pairs) else [],
            y=names,
            orientation="h",
            marker_color=WRONG,
            customdata=pairs[::-1] if len(pairs) else None,
            hovertemplate="true %{y}<br>%{x} images<br>click to see them<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Most-confused pairs (true → predicted), {len(pairs)} of {len(ev.confused_pairs)}",
        margin=MARGIN,
        height=max(260, 24 * len(pairs) + 100),
        xaxis_title="images",
        yaxis=dict(type="category"),
        clickmode="event+select",
    )
    return fig


def reliability_figure(ev: Evaluation) -> go.Figure:
    """Reliability diagram (Guo et al., 2017): accuracy per confidence bin against the diagonal.

    Bars below the diagonal are over-confident bins; bar width is the bin, the grey bars behind
    are the share of images in each bin; the title gives the expected calibration error.
    """
    centres = (ev.bin_edges[:-1] + ev.bin_edges[1:]) / 2
    width = float(ev.bin_edges[1] - ev.bin_edges[0])
    filled = ev.bin_count > 0
    share = ev.bin_count / max(int(ev.bin_count.sum()), 1)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=centres, y=share, width=width, name="share of images", marker_color="rgba(150,150,150,0.35)", hovertemplate="confidence %{x:.2f}<br>%{y:.1%} of images<extra></extra>"))
    fig.add_trace(
        go.Bar(
            x=centres[filled],
            y=np.nan_to_num(ev.bin_accuracy[filled]),
            width=width * 0.8,
            name="accuracy",
            marker_color="#2a6f97",
            customdata=np.stack([ev.bin_count[filled], ev.bin_confidence[filled]], axis=1),
            hovertemplate="bin around %{x:.2f}<br>accuracy %{y:.1%}<br>mean confidence %{customdata[1]:.1%}<br>%{customdata[0]} images<extra></extra>",
        )
    )
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", line=dict(color="black", dash="dash")))
    fig.update_layout(
        title=f"Reliability diagram: expected calibration error {ev.ece:.1%} ({len(ev.bin_count)} bins)",
        barmode="overlay",
        margin=MARGIN,
        height=380,
        xaxis=dict(title="confidence (top-1 probability)", range=[0, 1], tickformat=".0%"),
        yaxis=dict(title="accuracy", range=[0, 1], tickformat=".0%"),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def confidence_figure(ev: Evaluation, bins: int = 20) -> go.Figure:
    """Histograms of the top-1 confidence of right and of wrong answers, each as a share of its own
    group (wrong answers are few, so on a count axis they would vanish under the right ones);
    hover gives the counts, and each bar carries [correct, low, high]."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    matched = ev.matched
    fig = go.Figure()
    for correct, name, colour in ((True, "right", RIGHT), (False, "wrong", WRONG)):
        values = ev.confidence[matched & (ev.correct == correct)]
        which = np.minimum((values * bins).astype(np.int64), bins - 1)
        counts = np.bincount(which, minlength=bins)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=counts / max(len(values), 1),
                width=1.0 / bins,
                name=f"{name} ({len(values)})",
                marker_color=colour,
                opacity=0.7,
                text=counts,
                textposition="none",
                customdata=np.stack([np.full(bins, int(correct)), edges[:-1], edges[1:]], axis=1),
                hovertemplate=f"{name}: %{{text}} images (%{{y:.0%}} of the {name} ones)<br>confidence %{{customdata[1]:.0%}}–%{{customdata[2]:.0%}}<br>click to see them<extra></extra>",
            )
        )
    fig.update_layout(
        title="Confidence of right and wrong answers",
        barmode="overlay",
        margin=MARGIN,
        height=380,
        xaxis=dict(title="confidence (top-1 probability)", range=[0, 1], tickformat=".0%"),
        yaxis=dict(title="share of the group", tickformat=".0%"),
        clickmode="event+select",
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


@draws(Evaluation)
def evaluation_figure(ev: Evaluation, *, view: str = "confusion") -> go.Figure:
    """An evaluation's figure: "confusion" (matrix), "pairs", "reliability" or "confidence"."""
    views = {"confusion": confusion_figure, "pairs": pairs_figure, "reliability": reliability_figure, "confidence": confidence_figure}
    if view not in views:
        raise ValueError(f"Unknown view '{view}'; use one of {', '.join(views)}.")
    return views[view](ev)


def _map_trace(z: np.ndarray, coloraxis: str, unit: str, **placement: float) -> go.Heatmap:
    return go.Heatmap(
        z=np.asarray(z, dtype=np.float64),
        coloraxis=coloraxis,
        hovertemplate=f"%{{z:.3g}} {unit}<extra></extra>",
        **placement,
    )


@draws(Contrast)
def contrast_figure(result: Contrast, *, opacity: float = 0.55) -> go.Figure:
    """Why predicted and not true: both classes' Grad-CAM, guided backprop and occlusion, and the contrast.

    Each row compares like with like on ONE colour scale: Grad-CAM of both classes (and of
    predicted − true) from zero, guided backprop of both classes around zero, occlusion drops
    of both probabilities around zero; the contrastive gradient has its own scale around zero.
    """
    pred, true = (_short(n, 26) for n in result.class_names)
    titles = [
        f"input (p {pred} {result.probabilities[0]:.0%}, {true} {result.probabilities[1]:.0%})",
        f"Grad-CAM: {pred}",
        f"Grad-CAM: {true}",
        f"Grad-CAM: {pred} − {true}",
        f"guided backprop: {pred}",
        f"guided backprop: {true}",
        f"gradient of {pred} − {true}",
        "",
        f"occlusion: drop of p({pred})",
        f"occlusion: drop of p({true})",
    ]
    has_occlusion = len(result.occlusions) == 2
    fig = panel_grid(titles if has_occlusion else titles[:7], 4, 250, f"Why '{result.class_names[0]}' and not '{result.class_names[1]}'")
    picture = result.image
    height, width = picture.shape[:2]
    fig.add_trace(go.Image(z=picture, hovertemplate="x=%{x}, y=%{y}<extra></extra>"), **cell(0, 4))
    if result.cams is not None:
        cams = [*result.cams] + ([result.contrastive_cam] if result.contrastive_cam is not None else [])
        for i, cam in enumerate(cams, start=1):
            fig.add_trace(go.Image(z=picture, hoverinfo="skip"), **cell(i, 4))
            fig.add_trace(_map_trace(cam.upsampled, "coloraxis", "(Grad-CAM)", opacity=opacity), **cell(i, 4))
    guided = [a.map for a in result.guided]
    for i, heat in enumerate(guided, start=4):
        fig.add_trace(_map_trace(heat, "coloraxis2", "(∂logit/∂input, guided)"), **cell(i, 4))
    fig.add_trace(_map_trace(result.contrastive.map, "coloraxis3", "(∂(logit pred − logit true)/∂input)"), **cell(6, 4))
    if has_occlusion:
        for i, occ in enumerate(result.occlusions, start=8):
            dy = float(occ.centers_y[1] - occ.centers_y[0]) if len(occ.centers_y) > 1 else float(height)
            dx = float(occ.centers_x[1] - occ.centers_x[0]) if len(occ.centers_x) > 1 else float(width)
            fig.add_trace(go.Image(z=picture, hoverinfo="skip"), **cell(i, 4))
            fig.add_trace(_map_trace(occ.drop, "coloraxis4", "(drop of probability)", x0=float(occ.centers_x[0]), dx=dx, y0=float(occ.centers_y[0]), dy=dy, opacity=opacity), **cell(i, 4))
    cam_top = max((float(np.max(c.upsampled)) for c in (result.cams or ())), default=1.0) or 1.0
    guided_top = symmetric_range(guided)
    contrast_top = symmetric_range([result.contrastive.map])
    drop_top = symmetric_range([o.drop for o in result.occlusions], quantile=1.0) if has_occlusion else 1.0
    hidden = dict(showscale=False)
    fig.update_layout(
        coloraxis=dict(colorscale=SEQUENTIAL, cmin=0, cmax=cam_top, **hidden),
        coloraxis2=dict(colorscale=DIVERGING, cmin=-guided_top, cmax=guided_top, **hidden),
        coloraxis3=dict(colorscale=DIVERGING, cmin=-contrast_top, cmax=contrast_top, **hidden),
        coloraxis4=dict(colorscale=DIVERGING, cmin=-drop_top, cmax=drop_top, **hidden),
    )
    return fig
