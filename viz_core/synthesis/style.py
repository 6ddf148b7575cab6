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

from ..errors import ConvlensError, LayerError
from ..images import ImageLike
from ..layers import find_layer
from ..results import OnStep, StyleTransfer
from .engine import OPTIMIZERS, make_generator, optimize_image, reference_activations
from .objectives import Objective, feature_match, gram, gram_match, total_variation
from .params import pixels

if TYPE_CHECKING:
    from ..hub import LoadedModel

MAX_STYLE_LAYERS = 5
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02, "sgd": 10.0}


def _stage_outputs(m: "LoadedModel") -> list[str]:
    """Outputs of the model's stages (one per resolution), shallow to deep.

    timm lists them in `feature_info`; for other models the last map layer of each spatial size
    in the catalogue stands in for it.
    """
    usable = {info.path: info for info in m.layers() if info.layout in ("map", "tokens")}
    info = getattr(m.model, "feature_info", None)
    names: list[str] = []
    if info is not None:
        try:
            names = [str(entry["module"]) for entry in info]
        except (TypeError, KeyError):
            names = []
    names = [name for name in names if name in usable]
    if names:
        return names
    by_size: dict[tuple[int, int], str] = {}
    for layer in m.layers():
        if layer.layout == "map" and layer.depth <= 2 and min(layer.spatial or (0, 0)) > 1:  # 1×1 maps hold no texture
            by_size[layer.spatial] = layer.path  # type: ignore[index]  # later layers of a size win
    return list(by_size.values())


def default_layers(m: "LoadedModel") -> tuple[str, tuple[str, ...]]:
    """(content layer, style layers) for this model, from its stage outputs.

    Style: up to five stages, evenly spread from shallow (fine texture) to deep (large motifs),
    as Gatys et al. used conv1_1 … conv5_1. Content: the second-deepest of them, as their conv4_2
    sits one stage below the top: deep enough to let the texture change, shallow enough to keep
    the layout.
    """
    stages = _stage_outputs(m)
    if len(stages) < 2:
        raise LayerError(
            f"{m.name} has no stages of feature maps to take style statistics from.",
            "Neural style needs a CNN (or a ViT) with several feature layers; choose them by hand.",
        )
    if len(stages) > MAX_STYLE_LAYERS:
        picks = np.linspace(0, len(stages) - 1, MAX_STYLE_LAYERS).round().astype(int)
        stages = [stages[i] for i in dict.fromkeys(picks.tolist())]
    return stages[-2], tuple(stages)


def _check_layers(m: "LoadedModel", layers: Sequence[str]) -> None:
    catalogue = m.layers()
    for layer in layers:
        info = find_layer(catalogue, layer)
        if info.layout not in ("map", "tokens"):
            raise LayerError(f"Layer '{layer}' outputs {info.layout or 'nothing'}, not a feature map.", "Pick a layer with a C×H×W map (or ViT tokens).")


def _at_size(m: "LoadedModel", image: ImageLike, size: int | None) -> np.ndarray:
    """The picture as the model sees it (HxWx3 in [0, 1]), resized to size×size when asked."""
    picture = m.image01(image)
    if size is None or size == picture.shape[0] == picture.shape[1]:
        return picture
    if not 32 <= size <= 1024:
        raise ConvlensError(f"A picture side of {size} pixels is outside 32–1024.", "Pick a size between 32 and 1024.")
    if any(info.layout == "tokens" for info in m.layers()):
        raise ConvlensError(f"{m.name} is a transformer and runs only at its own input size.", "Leave the size empty for this model.")
    from PIL import Image

    resized = Image.fromarray(np.rint(picture * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(resized, dtype=np.float32) / 255.0


def _relative_gram(layer: str, reference: torch.Tensor) -> Objective:
    """Gram match divided by the mean square of the reference Gram: starts near 1 on any layer."""
    target = gram(reference)
    scale = float(target.pow(2).mean()) or 1.0
    return gram_match(layer, target) * (1.0 / scale)


def _recorded(objective: Objective, log: dict[str, float], key: str) -> Objective:
    """The same objective, remembering its latest value under `key` (for the loss curves)."""

    def fn(probe: Any) -> torch.Tensor:
        value = objective.score(probe)
        log[key] = float(value.detach().mean())
        return value

    return Objective(objective.name, fn, objective.layers)


def style_transfer(
    m: "LoadedModel",
    content: ImageLike,
    style: ImageLike,
    *,
    content_layer: str | None = None,
    style_layers: Sequence[str] | None = None,
    style_weights: Sequence[float] | None = None,
    content_weight: float = 1.0,
    style_weight: float = 100.0,
    tv_weight: float = 10.0,
    steps: int = 200,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    init: str = "content",
    seed: int = 0,
    size: int | None = None,
    on_step: OnStep | None = None,
) -> StyleTransfer:
    """Paint `content` in the manner of `style` by matching features and Gram matrices.

    Defaults (`default_layers`) come from the model's stages and are recorded in the result.
    Losses are relative (each starts near 1): content ‖F − F_c‖²/‖F_c‖², style per layer
    mean (G − G_s)² / mean G_s², total variation on the [0, 1] picture. optimizer: "lbfgs"
    (Gatys et al.) or "adam"; init: "content" (faster, keeps the layout) or "noise" (drawn from
    `seed`; the same seed gives the same picture). size: side of the square picture (default the
    model's input size); smaller is faster, CNNs only.
    """
    if optimizer not in OPTIMIZERS:
        raise ConvlensError(f"Unknown optimiser '{optimizer}'.", f"Use one of: {', '.join(OPTIMIZERS)}.")
    if init not in ("content", "noise"):
        raise ConvlensError(f"Unknown start '{init}'.", "Start from 'content' or 'noise'.")
    if min(content_weight, style_weight, tv_weight) < 0:
        raise ConvlensError("Loss weights must be ≥ 0.", "Set a weight to 0 to switch its term off.")
    default_content, default_style = default_layers(m) if content_layer is None or style_layers is None else ("", ())
    content_layer = content_layer or default_content
    style_layers = tuple(style_layers) if style_layers is not None else default_style
    if not style_layers:
        raise LayerError("Neural style needs at least one style layer.", "Pick one or more feature layers.")
    layer_weights = [1.0] * len(style_layers) if style_weights is None else [float(w) for w in style_weights]
    if len(layer_weights) != len(style_layers) or min(layer_weights) < 0:
        raise ConvlensError(f"Give one weight ≥ 0 per style layer ({len(style_layers)}), not {len(layer_weights)}.")
    _check_layers(m, (content_layer, *style_layers))

    content01, style01 = _at_size(m, content, size), _at_size(m, style, size)
    size_hw = tuple(content01.shape[:2])
    content_refs = reference_activations(m, content01, [content_layer], size_hw)  # type: ignore[arg-type]
    style_refs = reference_activations(m, style01, list(style_layers), size_hw)  # type: ignore[arg-type]
    log: dict[str, float] = {}
    content_term = _recorded(feature_match(content_layer, content_refs[content_layer]), log, "content")
    total_weight = sum(layer_weights) or 1.0
    style_term = None
    for layer, weight in zip(style_layers, layer_weights):
        term = _relative_gram(layer, style_refs[layer]) * (weight / total_weight)
        style_term = term if style_term is None else style_term + term
    assert style_term is not None
    style_term = _recorded(style_term, log, "style")
    tv_term = _recorded(total_variation(2.0), log, "tv")
    # matches are negative distances and TV a positive penalty: the engine maximises
    objective = content_term * content_weight + style_term * style_weight - tv_term * tv_weight

    generator = make_generator(seed)
    start = content01 if init == "content" else torch.rand((*size_hw, 3), generator=generator).numpy()
    # a contiguous 1x3xHxW start: L-BFGS views the gradient flat, which a permuted array would break
    param = pixels(size_hw, init=torch.as_tensor(np.asarray(start, dtype=np.float32)).permute(2, 0, 1)[None].contiguous())  # type: ignore[arg-type]
    curves: dict[str, list[float]] = {"content": [], "style": [], "tv": []}

    def watch(info: Any) -> None:
        for key in curves:
            curves[key].append(-log[key] if key != "tv" else log[key])
        if on_step is not None:
            on_step(info)

    started = time.perf_counter()
    result = optimize_image(
        m,
        objective,
        param,
        steps=steps,
        lr=DEFAULT_LR[optimizer] if lr is None else lr,
        optimizer=optimizer,
        generator=generator,
        on_step=watch,
        preview_every=max(steps // 15, 1),
        input_size=size_hw,  # type: ignore[arg-type]
        label="style",
    )
    picture = result.image  # the best-scoring picture seen: robust to a late L-BFGS overshoot
    # the losses of the picture returned, measured afresh (the engine scores the weighted sum only)
    refs = {k: style_refs[k] for k in style_layers}
    end = losses(m, picture.astype(np.float32) / 255.0, content_refs[content_layer], content_layer, refs, layer_weights)
    begin = losses(m, np.asarray(start, dtype=np.float32), content_refs[content_layer], content_layer, refs, layer_weights)
    return StyleTransfer(
        image=picture,
        content=np.rint(content01 * 255.0).astype(np.uint8),
        style=np.rint(style01 * 255.0).astype(np.uint8),
        content_loss=np.asarray(curves["content"]),
        style_loss=np.asarray(curves["style"]),
        tv_loss=np.asarray(curves["tv"]),
        content_layer=content_layer,
        style_layers=tuple(style_layers),
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
            "content_layer": content_layer,
            "style_layers": list(style_layers),
            "style_layer_weights": layer_weights,
            "content_weight": content_weight,
            "style_weight": style_weight,
            "tv_weight": tv_weight,
            "steps": steps,
            "optimizer": optimizer,
            "lr": DEFAULT_LR[optimizer] if lr is None else lr,
            "init": init,
            "seed": seed,
            "size": list(size_hw),
            "model": m.name,
            "weights": m.weights,
        },
    )


def losses(
    m: "LoadedModel",
    image01: np.ndarray,
    content_ref: torch.Tensor,
    content_layer: str,
    style_refs: dict[str, torch.Tensor],
    layer_weights: Sequence[float],
) -> dict[str, float]:
    """Relative content and (weighted mean) style loss of one HxWx3 picture in [0, 1]."""
    acts = reference_activations(m, image01, list(dict.fromkeys((content_layer, *style_refs))), tuple(image01.shape[:2]))  # type: ignore[arg-type]
    content = float((acts[content_layer] - content_ref).pow(2).sum() / content_ref.pow(2).sum().clamp_min(1e-12))
    total = sum(layer_weights) or 1.0
    style = 0.0
    for (layer, ref), weight in zip(style_refs.items(), layer_weights):
        target = gram(ref)
        style += weight / total * float((gram(acts[layer]) - target).pow(2).mean() / target.pow(2).mean().clamp_min(1e-12))
    return {"content": content, "style": style}
