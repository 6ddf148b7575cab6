"""Grad-CAM (Selvaraju et al., 2017) for any layer with a spatial map or a ViT-style token grid.

Why it works on transformers too: patch tokens (prefix tokens dropped) are reshaped to their
patch grid, so the layer looks like a (D, gh, gw) map and the formula is unchanged.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import LayerError
from ..hooks import capture, model_lock
from ..hub import LoadedModel
from ..layers import find_layer, position_grid
from ..results import Attribution, GradCam
from ..targets import TargetLike, as_target, unit
from .backprop import gradients, picture, rule_notes
from .common import ImageInput, as_input


def default_layer(m: LoadedModel) -> str:
    """The layer Grad-CAM uses when none is given: the last spatial map before the head.

    CNNs: the last top-level module with a map (EfficientNet `bn2`, ResNet `layer4`). Token
    models: the input norm of the last block (`blocks.11.norm1`), because after the last
    attention the patch tokens no longer reach a class-token head and their gradient is zero.
    """
    layers = m.layers()
    norms = [info.path for info in layers if info.layout == "tokens" and info.path.endswith("norm1")]
    if norms:
        return norms[-1]
    top = [info.path for info in layers if info.depth == 1 and position_grid(info) is not None]
    if top:
        return top[-1]
    anywhere = [info.path for info in layers if position_grid(info) is not None]
    if not anywhere:
        raise LayerError(f"{m.name} has no layer with a spatial map or a token grid, so Grad-CAM does not apply.")
    return anywhere[-1]


def check_layer(m: LoadedModel, layer: str) -> tuple[int, int, int]:
    """The layer's (prefix, h, w), or a LayerError saying why it has no map to weight."""
    info = find_layer(m.layers(), layer)
    grid = position_grid(info)
    if grid is None:
        shape = "×".join(map(str, info.shape)) or "no tensor"
        raise LayerError(
            f"Layer '{layer}' has no spatial map (its output is {shape}), so Grad-CAM cannot place its evidence on the image.",
            f"Pick a layer with a C×H×W map or a token grid, e.g. '{default_layer(m)}'.",
        )
    return grid


def as_map(value: torch.Tensor, prefix: int, height: int, width: int) -> torch.Tensor:
    """(B, C, h, w) map from a map layer's output or from (B, N, D) tokens (prefix dropped)."""
    if value.ndim == 4:
        return value
    patches = value[:, prefix:, :]
    return patches.transpose(1, 2).reshape(value.shape[0], value.shape[2], height, width)


def channel_map(m: LoadedModel, image: ImageInput, layer: str, channel: int) -> np.ndarray:
    """(h, w) activation of one channel at every position of a map or token layer.

    Why: to explain one neuron a user must pick where it sits; showing where the channel fires
    on this image makes the pick (usually its strongest position) one click instead of a guess.
    """
    unit(layer, channel).validate(m)  # clear messages for an unknown layer or channel
    info = find_layer(m.layers(), layer)
    grid = position_grid(info)
    if grid is None:
        raise LayerError(f"Layer '{layer}' has no spatial positions to pick from (output {tuple(info.shape)}).", "Pick a layer with a C×H×W map or a token grid.")
    with torch.inference_mode(), model_lock(m.model), capture(m.model, [layer]) as activations:
        m.model(as_input(m, image))
    return as_map(activations[layer], *grid)[0, channel].float().cpu().numpy()


def grad_cam(m: LoadedModel, image: ImageInput, target: TargetLike, layer: str | None = None) -> GradCam:
    """Grad-CAM: ReLU(sum_k alpha_k A_k), alpha_k = spatial mean of d score / d A_k.

    `map` is at the layer's resolution; `upsampled` is bilinearly resized to the input.
    """
    layer = layer or default_layer(m)
    prefix, height, width = check_layer(m, layer)
    goal = as_target(target, m)
    x = as_input(m, image)
    result = gradients(m, x, goal, "vanilla", layer=layer)
    assert result.layer_value is not None and result.layer_grad is not None
    activation = as_map(result.layer_value, prefix, height, width)[0]
    gradient = as_map(result.layer_grad, prefix, height, width)[0]
    weights = gradient.mean(dim=(1, 2))
    cam = torch.relu((weights[:, None, None] * activation).sum(dim=0))
    upsampled = F.interpolate(cam[None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
    notes: tuple[str, ...] = ()
    if not torch.any(gradient != 0):
        notes = (f"The target does not depend on layer '{layer}' (its gradient there is zero), so the map is empty.",)
    elif not torch.any(cam > 0):
        notes = ("Every position has negative weighted evidence, so ReLU leaves an empty map.",)
    return GradCam(
        map=cam.cpu().numpy().astype(np.float32),
        upsampled=upsampled.clamp(min=0).cpu().numpy().astype(np.float32),
        weights=weights.cpu().numpy().astype(np.float32),
        image=picture(m, x),
        layer=layer,
        target=goal.describe(m),
        score=float(result.scores[0]),
        params={"method": "grad_cam", "layer": layer, "target": goal.describe(m)},
        notes=notes,
    )


def guided_grad_cam(m: LoadedModel, image: ImageInput, target: TargetLike, layer: str | None = None) -> Attribution:
    """Guided Grad-CAM: guided backprop times the upsampled Grad-CAM, per pixel and channel."""
    layer = layer or default_layer(m)
    check_layer(m, layer)
    goal = as_target(target, m)
    x = as_input(m, image)
    cam = grad_cam(m, x, goal, layer)
    guided = gradients(m, x, goal, "guided")
    attribution = guided.input_grad[0].cpu().numpy() * cam.upsampled[None]
    return Attribution(
        method="guided_grad_cam",
        attribution=attribution.astype(np.float32),
        image=cam.image,
        target=cam.target,
        score=cam.score,
        rule="guided",
        rule_applied=guided.applied,
        rule_modules=guided.modules,
        params={"method": "guided_grad_cam", "layer": layer, "target": cam.target},
        notes=rule_notes("guided", guided.applied) + cam.notes,
    )
