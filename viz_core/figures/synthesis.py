"""Figures of made pictures: gradient-ascent syntheses, reconstructions, adversarial images, neural style.

Why together: each is a picture optimised against the model, shown with what it started from
and with its objective per step, so they share the same pictures-plus-curve vocabulary.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..results import Adversarial, AttackSweep, StyleTransfer, Synthesis
from .base import MARGIN, curve, image, image_grid
from .dispatch import draws
from .display import amplified, eps_text

NORM_NAMES = {"linf": "L∞", "l2": "L2"}


def synthesis_title(result: Synthesis) -> str:
    """What was maximised and how, from the parameters the run recorded."""
    what = str(result.params.get("objective", "the objective"))
    if "class_name" in result.params:
        what += f" ('{str(result.params['class_name']).split(',')[0]}')"  # ImageNet names list synonyms
    settings = result.params.get("settings", {})
    how = [str(settings["param"])] if "param" in settings else []
    if int(settings.get("batch", 1)) > 1:
        how.append(f"{settings['batch']} views/step")
    how.append(f"{len(result.scores)} steps" + (", stopped early" if result.stopped_early else ""))
    return f"maximising {what} ({', '.join(how)})"


def importance_picture(picture: np.ndarray, importance: np.ndarray, floor: float = 0.15) -> np.ndarray:
    """The picture faded to white where the objective's gradient seldom fell (MACO's display):
    alpha = the importance map, blurred a little and scaled so its 99th percentile is 1."""
    from scipy.ndimage import gaussian_filter

    alpha = gaussian_filter(np.asarray(importance, dtype=np.float64), sigma=max(1.0, importance.shape[0] / 56))
    alpha = np.clip(alpha / max(np.percentile(alpha, 99), 1e-12), 0, 1)
    alpha = floor + (1 - floor) * alpha
    return (picture * alpha[..., None] + 255 * (1 - alpha[..., None])).round().astype(np.uint8)


@draws(Synthesis)
def synthesis_figure(result: Synthesis, *, height: int = 380) -> go.Figure:
    """A gradient-ascent run's picture (class model, neuron, inversion, DeepDream); several
    pictures side by side (diversity); the image beside its accentuation and the change; the
    picture beside its importance map (MACO) when the run recorded one."""
    title = synthesis_title(result)
    if result.images is not None and result.params.get("param") == "accent":
        original, accented = result.images[0], result.images[1]
        change = accented.astype(np.float64) - original.astype(np.float64)
        limit = float(np.abs(change).max()) or 1.0
        titles = ["image", "accentuated", f"change ×{127.5 / limit:.0f} (grey = none)"]
        return image_grid([original, accented, amplified(change / 255.0, limit / 255.0)], titles, columns=3, height_per_row=height - 60, title=title)
    if result.images is not None:
        count = len(result.images)
        return image_grid(list(result.images), [f"picture {i + 1}" for i in range(count)], columns=min(count, 4), height_per_row=max(200, height - 120), title=title)
    if result.importance is not None:
        faded = importance_picture(result.image, result.importance)
        return image_grid([result.image, faded], ["picture", "where the objective looks (importance)"], columns=2, height_per_row=height - 60, title=title)
    return image(result.image, title, height)


def synthesis_curve(result: Synthesis, y_label: str, title: str = "Score during optimisation") -> go.Figure:
    """The objective at every step of an image optimisation, with the step of the returned picture marked."""
    fig = curve(list(result.scores), title, y_label)
    if 0 <= result.best_step < len(result.scores):
        fig.add_trace(go.Scatter(x=[result.best_step], y=[result.scores[result.best_step]], mode="markers", name="best", marker=dict(size=9, color="#d62728"), hovertemplate="best: step %{x}, %{y:.4g}<extra></extra>"))
    return fig


def reconstructions(original: np.ndarray, pictures: Sequence[np.ndarray], titles: Sequence[str], title: str = "") -> go.Figure:
    """The original beside its reconstructions (feature inversion from several depths)."""
    return image_grid([original, *pictures], ["original", *titles], columns=len(pictures) + 1, height_per_row=300, title=title)


@draws(Adversarial)
def adversarial_panels(result: Adversarial, class_names: Sequence[str] | None = None, height: int = 320) -> go.Figure:
    """Original, amplified perturbation (scale in the title) and adversarial picture side by side.

    Without `class_names` classes are shown by index.
    """
    def name(k: int) -> str:
        return class_names[k][:28] if class_names is not None else f"class {k}"

    limit = float(np.abs(result.perturbation).max()) or 1.0
    before, after = result.label, int(np.argmax(result.probs_after))
    titles = [
        f"original: {name(before)} ({result.probs_before[before]:.0%})",
        f"change ×{0.5 / limit:.0f} (grey = 0, ±{limit * 255:.2g}/255)",
        f"adversarial: {name(after)} ({result.probs_after[after]:.0%})",
    ]
    goal = f"target: {name(result.target_class)}" if result.target_class is not None else "untargeted"
    title = f"{result.method.upper()} {NORM_NAMES.get(result.norm, result.norm)}, ε = {eps_text(result.eps, result.norm)}, {goal}: {'succeeded' if result.success else 'failed'}"
    pictures = [result.original, amplified(result.perturbation, limit), result.image]
    return image_grid(pictures, titles, columns=3, height_per_row=height, title=title)


@draws(AttackSweep)
def attack_sweep(result: AttackSweep) -> go.Figure:
    """Fraction of images attacked successfully against ε, with each image's goal probability."""
    x = result.epsilons * 255 if result.norm == "linf" else result.epsilons
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=x, y=result.success_rate, mode="lines+markers", name="success rate", line=dict(width=4, color="#d62828"), hovertemplate="ε=%{x:.3g}<br>success %{y:.0%}<extra></extra>"),
        secondary_y=False,
    )
    what = "p(target)" if result.target_class is not None else "p(clean class)"
    for i, name in enumerate(result.names):
        fig.add_trace(
            go.Scatter(x=x, y=result.goal_prob[i], mode="lines", name=f"{what}: {name}", line=dict(dash="dot", width=1.5), opacity=0.7, hovertemplate=f"{name}<br>ε=%{{x:.3g}}<br>{what}=%{{y:.1%}}<extra></extra>"),
            secondary_y=True,
        )
    goal = "reach the target" if result.target_class is not None else "change the prediction"
    fig.update_layout(
        title=f"Attacks that {goal} ({len(result.names)} images, {result.steps} PGD steps, {NORM_NAMES.get(result.norm, result.norm)})",
        margin=MARGIN,
        height=380,
        legend=dict(orientation="h", y=-0.25),
        xaxis_title="ε (grey levels of 255)" if result.norm == "linf" else "ε (L2 length, pixel units)",
    )
    fig.update_yaxes(title_text="success rate", range=[-0.03, 1.03], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text=what, range=[-0.03, 1.03], tickformat=".0%", secondary_y=True, showgrid=False)
    return fig


@draws(StyleTransfer)
def style_transfer_figure(result: StyleTransfer, *, height: int = 320) -> go.Figure:
    """Neural style (Gatys et al., 2016): the content and style inputs beside the painted picture."""
    steps = len(result.style_loss)
    titles = ["content", "style", f"result ({steps} steps, style loss fell {result.metrics['style_drop']:.0%})"]
    title = f"neural style: content from {result.content_layer}, style from {len(result.style_layers)} layers"
    return image_grid([result.content, result.style, result.image], titles, columns=3, height_per_row=height, title=title)


def style_losses(result: StyleTransfer) -> go.Figure:
    """Relative content, style and total-variation losses per step (log scale)."""
    fig = go.Figure()
    for name, values, colour in (("style (Gram)", result.style_loss, "#d62828"), ("content", result.content_loss, "#2a6f97"), ("total variation", result.tv_loss, "#8d99ae")):
        fig.add_trace(go.Scatter(y=np.maximum(values, 1e-6), mode="lines", name=name, line=dict(color=colour), hovertemplate=f"step %{{x}}<br>{name}: %{{y:.3g}}<extra></extra>"))
    fig.update_layout(
        title=f"Losses per step (style fell {result.metrics['style_drop']:.0%})",
        xaxis_title="step",
        yaxis=dict(type="log", title="relative loss"),
        margin=MARGIN,
        height=320,
        legend=dict(orientation="h", y=-0.3),
    )
    return fig
