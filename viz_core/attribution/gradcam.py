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
from ..layers import LayerInfo, default_layer, find_layer, position_grid
from ..results import Attribution, GradCam
from ..targets import TargetLike, as_target, target_spec, unit
from .backprop import gradients, rule_notes
from .common import ImageInput, as_input


def grid_layer(m: LoadedModel, layer: str) -> LayerInfo:
    """The catalogue entry of a layer with positions to weight, or a LayerError saying why not."""
    info = find_layer(m.layers(), layer)
    if position_grid(info) is None:
        shape = "×".join(map(str, info.shape)) or "no tensor"
        raise LayerError(
            f"Layer '{layer}' has no spatial map (its output is {shape}): no spatial positions to place its evidence on the image.",
            f"Pick a layer with a C×H×W map or a token grid, e.g. '{default_layer(m, 'grad_cam')}'.",
        )
    return info


def channel_map(m: LoadedModel, image: ImageInput, layer: str, channel: int) -> np.ndarray:
    """(h, w) activation of one channel at every position of a map or token layer.

    Why: to explain one neuron a user must pick where it sits; showing where the channel fires
    on this image makes the pick (usually its strongest position) one click instead of a guess.
    """
    unit(layer, channel).validate(m)  # clear messages for an unknown layer or channel
    info = grid_layer(m, layer)
    with torch.inference_mode(), model_lock(m.model), capture(m.model, [layer]) as activations:
        m.model(as_input(m, image))
    return info.geometry.grid(activations[layer])[0, channel].float().cpu().numpy()


def grad_cam(m: LoadedModel, image: ImageInput, target: TargetLike, layer: str | None = None) -> GradCam:
    """Grad-CAM: ReLU(sum_k alpha_k A_k), alpha_k = spatial mean of d score / d A_k.

    `map` is at the layer's resolution; `upsampled` is bilinearly resized to the input.
    """
    layer = layer or default_layer(m, "grad_cam")
    geometry = grid_layer(m, layer).geometry
    goal = as_target(target, m)
    x = as_input(m, image)
    result = gradients(m, x, goal, "vanilla", layer=layer)
    assert result.layer_value is not None and result.layer_grad is not None
    activation = geometry.grid(result.layer_value)[0]
    gradient = geometry.grid(result.layer_grad)[0]
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
        image=m.deprocess(x),
        layer=layer,
        target=goal.describe(m),
        score=float(result.scores[0]),
        params={"method": "grad_cam", "layer": layer, "target": target_spec(goal)},
        notes=notes,
    )


def guided_grad_cam(m: LoadedModel, image: ImageInput, target: TargetLike, layer: str | None = None) -> Attribution:
    """Guided Grad-CAM: guided backprop times the upsampled Grad-CAM, per pixel and channel."""
    layer = layer or default_layer(m, "grad_cam")
    grid_layer(m, layer)
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
        params={"method": "guided_grad_cam", "layer": layer, "target": target_spec(goal)},
        notes=rule_notes("guided", guided.applied) + cam.notes,
    )
