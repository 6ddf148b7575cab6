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


# --- linear fooling, adversarial images and neural style ---

from .results import DigitsFooling, DimensionGain, LinearFooling  # noqa: E402


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


from .results import Adversarial, AttackSweep, StyleTransfer  # noqa: E402


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
