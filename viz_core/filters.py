"""A layer's learned weights as pictures (CS231n lecture 9: AlexNet's conv1 filters).

Why only some layers read well: a first layer (or a ViT's patch embedding) sees RGB pixels, so
each filter is itself a small colour picture. Deeper kernels weigh the previous layer's channels,
not colours, so they can only be shown one input channel at a time, as signed grey kernels.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from torch import nn

from .errors import LayerError, SettingsError
from .hooks import resolve_module
from .results import Filters

if TYPE_CHECKING:
    from .hub import LoadedModel


def filter_layers(m: "LoadedModel") -> list[str]:
    """Layers with 2-D convolution weights to show (convs, incl. a ViT's patch projection)."""
    return [name for name, module in m.model.named_modules() if isinstance(module, nn.Conv2d)]


def _normalise(weights: np.ndarray, scale: str) -> np.ndarray:
    """Signed weights -> [0, 1] with 0.5 at zero: per filter (axis 0) or one shared scale."""
    axes = tuple(range(1, weights.ndim)) if scale == "filter" else None
    limit = np.abs(weights).max(axis=axes, keepdims=True) if axes else np.abs(weights).max()
    return 0.5 + 0.5 * weights / np.where(limit > 0, limit, 1.0)


def filters(m: "LoadedModel", layer: str | None = None, *, scale: str = "filter", max_filters: int = 64, max_inputs: int = 16) -> Filters:
    """The weights of a conv layer: RGB tiles when it reads the image, else per-channel kernels.

    layer=None picks the model's first conv. scale="filter" stretches each filter to its own
    range (shapes are visible, strengths are not comparable); "shared" uses one range for all.
    """
    names = filter_layers(m)
    if not names:
        raise LayerError(f"{m.name} has no convolution layers whose weights could be shown.")
    if scale not in ("filter", "shared"):
        raise SettingsError(f"Unknown scale '{scale}'.", "Use 'filter' or 'shared'.")
    layer = layer or names[0]
    module = resolve_module(m.model, layer)
    if not isinstance(module, nn.Conv2d):
        raise LayerError(f"'{layer}' is a {type(module).__name__}, not a 2-D convolution; it has no kernels to draw.", f"Pick one of: {', '.join(names[:5])}…")
    weight = module.weight.detach().float().cpu().numpy()  # out, in/groups, kh, kw
    params = {"method": "filters", "layer": layer, "scale": scale, "max_filters": max_filters, "max_inputs": max_inputs}
    out_channels, in_per_group = weight.shape[:2]
    image_channels = m.input_size[0]
    reads_pixels = layer == names[0] and in_per_group == image_channels and module.groups == 1
    if reads_pixels and image_channels in (1, 3):
        shown = weight[:max_filters]
        tiles = _normalise(shown, scale).transpose(0, 2, 3, 1)  # N, kh, kw, C
        if image_channels == 1:
            tiles = np.repeat(tiles, 3, axis=-1)
        what = "patch embedding" if "patch" in layer else "first layer"
        note = f"The {what} reads pixels, so each filter is a {weight.shape[2]}×{weight.shape[3]} picture: grey is 0, bright/colour is the pattern it responds to."
        return Filters(layer, "rgb", (tiles * 255).round().astype(np.uint8), np.zeros((0, 0, 0, 0), np.float32), tuple(weight.shape), scale, (len(shown), image_channels), params, (note,))
    kernels = weight[:max_filters, :max_inputs]
    if scale == "filter":
        limit = np.abs(kernels).max(axis=(1, 2, 3), keepdims=True)
    else:
        limit = np.array(np.abs(kernels).max())
    kernels = kernels / np.where(limit > 0, limit, 1.0)
    grouped = " (depthwise: one input channel per filter)" if module.groups > 1 and in_per_group == 1 else ""
    note = (
        f"{layer} weighs the {in_per_group} channels of the previous layer{grouped}, not colours: each cell is one filter's "
        f"{weight.shape[2]}×{weight.shape[3]} kernel for one input channel, which is why these are hard to read."
    )
    return Filters(layer, "kernels", np.zeros((0, 0, 0, 3), np.uint8), kernels.astype(np.float32), tuple(weight.shape), scale, kernels.shape[:2], params, (note,))
