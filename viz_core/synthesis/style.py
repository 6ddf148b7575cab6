"""Neural style transfer (Gatys, Ecker & Bethge, 2015) as a recipe over `optimize_image`.

A picture is optimised so that its deep features match the content image's at one layer and
the Gram matrices (channel correlations, i.e. texture statistics without position) of its
features match the style image's at several layers, with a total-variation prior against noise.

Why relative losses: raw feature distances and Gram entries differ by orders of magnitude
between layers and models; dividing each by its reference's own size makes every term start
near 1, so one set of default weights works on any timm CNN (and the weights mean the same on
every layer).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import LayerError, SettingsError
from ..images import ImageLike
from ..layers import Geometry, find_layer, fixed_input_size, style_layers
from ..results import OnStep, StyleTransfer
from .engine import OPTIMIZERS, StepState, make_generator, optimize_image, reference_activations
from .objectives import Objective, feature_match, gram, gram_match, total_variation
from .params import fourier, pixels
from .transforms import shift
from .settings import Style, as_params, configure

if TYPE_CHECKING:
    from ..hub import LoadedModel

DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02, "sgd": 10.0}
FOURIER_ADAM_LR = 0.05


def _geometries(m: "LoadedModel", layers: Sequence[str]) -> dict[str, Geometry]:
    """Each layer's geometry, or a LayerError for a layer without a feature map."""
    catalogue = m.layers()
    found = {}
    for layer in layers:
        info = find_layer(catalogue, layer)
        if info.layout not in ("map", "tokens"):
            raise LayerError(f"Layer '{layer}' outputs {info.layout or 'nothing'}, not a feature map.", "Pick a layer with a C×H×W map (or ViT tokens).")
        found[layer] = info.geometry
    return found


def _at_size(m: "LoadedModel", image: ImageLike, size: int | None) -> np.ndarray:
    """The picture as the model sees it (HxWx3 in [0, 1]), resized to size×size when asked."""
    picture = m.image01(image)
    if size is None or size == picture.shape[0] == picture.shape[1]:
        return picture
    if not 32 <= size <= 1024:
        raise SettingsError(f"A picture side of {size} pixels is outside 32–1024.", "Pick a size between 32 and 1024.")
    if fixed_input_size(m.model):
        raise SettingsError(f"{m.name} runs only at its own input size ({m.input_size[1]}×{m.input_size[2]}).", "Leave the size empty for this model.")
    from PIL import Image

    resized = Image.fromarray(np.rint(picture * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _relative_gram(layer: str, reference: torch.Tensor, geometry: Geometry, softmax: float | None = None) -> Objective:
    """Gram match divided by the mean square of the reference Gram: starts near 1 on any layer."""
    target = gram(reference, geometry, softmax)
    scale = float(target.pow(2).mean()) or 1.0
    return gram_match(layer, target, geometry, softmax) * (1.0 / scale)


def style_transfer(
    m: "LoadedModel",
    content: ImageLike,
    style: ImageLike,
    settings: Style | None = None,
    *,
    on_step: OnStep | None = None,
    **overrides: Any,
) -> StyleTransfer:
    """Paint `content` in the manner of `style` by matching features and Gram matrices.

    Defaults (`layers.style_layers`) come from the model's stages and are recorded in the result.
    Losses are relative (each starts near 1): content ‖F − F_c‖²/‖F_c‖², style per layer
    mean (G − G_s)² / mean G_s², total variation on the [0, 1] picture. optimizer: "lbfgs"
    (Gatys et al.) or "adam"; init: "content" (faster, keeps the layout) or "noise" (drawn from
    `seed`; the same seed gives the same picture). size: side of the square picture (default the
    model's input size); smaller is faster, CNNs only.
    """
    s = configure(Style, settings, overrides)
    if s.optimizer not in OPTIMIZERS:
        raise SettingsError(f"Unknown optimiser '{s.optimizer}'.", f"Use one of: {', '.join(OPTIMIZERS)}.")
    if s.init not in ("content", "noise"):
        raise SettingsError(f"Unknown start '{s.init}'.", "Start from 'content' or 'noise'.")
    if min(s.content_weight, s.style_weight, s.tv_weight) < 0:
        raise SettingsError("Loss weights must be ≥ 0.", "Set a weight to 0 to switch its term off.")
    default_content, default_style = style_layers(m) if s.content_layer is None or s.style_layers is None else ("", ())
    content_layer = s.content_layer or default_content
    chosen_styles = tuple(s.style_layers) if s.style_layers is not None else default_style
    if not chosen_styles:
        raise LayerError("Neural style needs at least one style layer.", "Pick one or more feature layers.")
    layer_weights = [1.0] * len(chosen_styles) if s.style_weights is None else [float(w) for w in s.style_weights]
    if len(layer_weights) != len(chosen_styles) or min(layer_weights) < 0:
        raise SettingsError(f"Give one weight ≥ 0 per style layer ({len(chosen_styles)}), not {len(layer_weights)}.")
    geometries = _geometries(m, (content_layer, *chosen_styles))

    content01, style01 = _at_size(m, content, s.size), _at_size(m, style, s.size)
    size_hw = tuple(content01.shape[:2])
    content_refs = reference_activations(m, content01, [content_layer], size_hw)  # type: ignore[arg-type]
    style_refs = reference_activations(m, style01, list(chosen_styles), size_hw)  # type: ignore[arg-type]
    content_term = feature_match(content_layer, content_refs[content_layer])
    total_weight = sum(layer_weights) or 1.0
    style_term = None
    for layer, weight in zip(chosen_styles, layer_weights):
        term = _relative_gram(layer, style_refs[layer], geometries[layer], s.softmax) * (weight / total_weight)
        style_term = term if style_term is None else style_term + term
    assert style_term is not None
    tv_term = total_variation(2.0)
    # matches are negative distances and TV a positive penalty: the engine maximises
    objective = content_term * s.content_weight + style_term * s.style_weight - tv_term * s.tv_weight

    generator = make_generator(s.seed)
    start = content01 if s.init == "content" else torch.rand((*size_hw, 3), generator=generator).numpy()
    # a contiguous 1x3xHxW start: L-BFGS views the gradient flat, which a permuted array would break
    start01 = torch.as_tensor(np.asarray(start, dtype=np.float32)).permute(2, 0, 1)[None].contiguous()
    if s.param not in ("pixels", "fourier"):
        raise SettingsError(f"Unknown parameterisation '{s.param}'.", "Use 'pixels' (Gatys et al.) or 'fourier'.")
    if s.param == "pixels":
        param = pixels(size_hw, init=start01)  # type: ignore[arg-type]
    else:  # from noise: the Fourier picture's own near-grey start, not white noise it would have to remove
        param = fourier(size_hw, init=start01 if s.init == "content" else None, generator=generator)  # type: ignore[arg-type]
    transforms = [shift(s.jitter)] if s.jitter > 0 else []
    curves: dict[str, list[float]] = {"content": [], "style": [], "tv": []}

    def record(state: StepState) -> None:
        curves["content"].append(-state.probes["content"])
        curves["style"].append(-state.probes["style"])
        curves["tv"].append(state.probes["tv"])

    started = time.perf_counter()
    lr = (FOURIER_ADAM_LR if s.param == "fourier" and s.optimizer == "adam" else DEFAULT_LR[s.optimizer]) if s.lr is None else s.lr
    result = optimize_image(
        m,
        objective,
        param,
        transforms,
        steps=s.steps,
        lr=lr,
        optimizer=s.optimizer,
        seed=generator,
        on_step=on_step,
        callbacks=[record],
        probes={"content": content_term, "style": style_term, "tv": tv_term},
        preview_every=max(s.steps // 15, 1),
        input_size=size_hw,  # type: ignore[arg-type]
        label="style",
    )
    picture = result.image  # the best-scoring picture seen: robust to a late L-BFGS overshoot
    # the losses of the picture returned, measured afresh (the engine scores the weighted sum only)
    refs = {k: style_refs[k] for k in chosen_styles}
    end = losses(m, picture.astype(np.float32) / 255.0, content_refs[content_layer], content_layer, refs, layer_weights, geometries)
    with torch.no_grad():
        first = param.render()[0].permute(1, 2, 0).numpy() if s.param == "fourier" and s.init == "noise" else np.asarray(start, dtype=np.float32)
    begin = losses(m, first, content_refs[content_layer], content_layer, refs, layer_weights, geometries)
    return StyleTransfer(
        image=picture,
        final_image=result.final_image,
        scores=result.scores,
        best_step=result.best_step,
        content=np.rint(content01 * 255.0).astype(np.uint8),
        style=np.rint(style01 * 255.0).astype(np.uint8),
        content_loss=np.asarray(curves["content"]),
        style_loss=np.asarray(curves["style"]),
        tv_loss=np.asarray(curves["tv"]),
        content_layer=content_layer,
        style_layers=tuple(chosen_styles),
        metrics={
            "style_loss_start": begin["style"],
            "style_loss_end": end["style"],
            "style_drop": 1.0 - end["style"] / begin["style"] if begin["style"] > 0 else 0.0,
            "content_loss_start": begin["content"],
            "content_loss_end": end["content"],
        },
        stopped_early=result.stopped_early,
        seconds=time.perf_counter() - started,
        params={
            **result.params,
            "settings": as_params(s),
            "content_layer": content_layer,
            "style_layers": list(chosen_styles),
            "style_layer_weights": layer_weights,
            "lr": lr,
            "size": list(size_hw),
        },
    )


def losses(
    m: "LoadedModel",
    image01: np.ndarray,
    content_ref: torch.Tensor,
    content_layer: str,
    style_refs: dict[str, torch.Tensor],
    layer_weights: Sequence[float],
    geometries: dict[str, Geometry] | None = None,
) -> dict[str, float]:
    """Relative content and (weighted mean) style loss of one HxWx3 picture in [0, 1]."""
    acts = reference_activations(m, image01, list(dict.fromkeys((content_layer, *style_refs))), tuple(image01.shape[:2]))  # type: ignore[arg-type]
    content = float((acts[content_layer] - content_ref).pow(2).sum() / content_ref.pow(2).sum().clamp_min(1e-12))
    total = sum(layer_weights) or 1.0
    style = 0.0
    for (layer, ref), weight in zip(style_refs.items(), layer_weights):
        geometry = (geometries or {}).get(layer)
        target = gram(ref, geometry)
        style += weight / total * float((gram(acts[layer], geometry) - target).pow(2).mean() / target.pow(2).mean().clamp_min(1e-12))
    return {"content": content, "style": style}
