"""The layer catalogue: every module's dot path, type, output shape and kind.

Why measured and not read from the architecture: output shapes come from one dummy forward at
the model's own input size, so the catalogue is right for CNNs, ViTs and user models alike, and
pages can tell up front whether a layer has a spatial map, tokens, or only a vector.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .errors import LayerError
from .hooks import capture, resolve_module

ELEMENTWISE_ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Hardtanh,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
)
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)
_POOLS = (
    nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
)


@dataclass(frozen=True)
class LayerInfo:
    """One module of the model as the catalogue shows it.

    `shape` is the output shape of one image (no batch axis): (C, H, W) for maps, (N, D) for
    token sequences, (D,) for vectors, () when the module returned no tensor.
    """

    path: str
    type_name: str
    shape: tuple[int, ...]
    kind: str  # conv | activation | norm | pool | block | attention | linear | other
    depth: int
    parameters: int

    @property
    def layout(self) -> str:
        """'map' (C,H,W), 'tokens' (N,D), 'vector' (D,) or 'none'."""
        return {3: "map", 2: "tokens", 1: "vector"}.get(len(self.shape), "none")

    @property
    def channels(self) -> int:
        """Number of units one can pick: C for maps, D for tokens and vectors."""
        if self.layout == "map":
            return self.shape[0]
        if self.layout in ("tokens", "vector"):
            return self.shape[-1]
        return 0

    @property
    def spatial(self) -> tuple[int, int] | None:
        """(H, W) of a map layer, else None."""
        return (self.shape[1], self.shape[2]) if self.layout == "map" else None


def layer_kind(module: nn.Module) -> str:
    """Coarse kind of a module, for filtering pickers (conv, activation, norm, ...)."""
    name = type(module).__name__.lower()
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if is_elementwise_activation(module):
        return "activation"
    if "attention" in name or isinstance(module, nn.MultiheadAttention):
        return "attention"
    if isinstance(module, _NORMS) or "norm" in name:
        return "norm"
    if isinstance(module, _POOLS) or "pool" in name:
        return "pool"
    if isinstance(module, nn.Linear):
        return "linear"
    if any(True for _ in module.children()):
        return "block"
    return "other"


def is_elementwise_activation(module: nn.Module) -> bool:
    """True for modules that apply one scalar function per element (rules of guided backprop apply).

    timm defines its own activation classes (GELU, Swish, HardSwish, ... in timm.layers.activations*),
    used e.g. by ConvNeXt; they count too.
    """
    if isinstance(module, ELEMENTWISE_ACTIVATIONS):
        return True
    return type(module).__module__.startswith("timm.layers.activations") and not any(True for _ in module.children())


def catalogue(model: nn.Module, example: torch.Tensor) -> list[LayerInfo]:
    """Every named module (in execution-independent definition order) with its measured output shape."""
    names = [name for name, _ in model.named_modules() if name]
    with torch.inference_mode(), capture(model, names, reduce=lambda t: tuple(t.shape[1:])) as shapes:
        model(example)
    infos = []
    for name, module in model.named_modules():
        if not name:
            continue
        infos.append(
            LayerInfo(
                path=name,
                type_name=type(module).__name__,
                shape=tuple(int(s) for s in shapes.get(name, ())),
                kind=layer_kind(module),
                depth=name.count(".") + 1,
                parameters=sum(p.numel() for p in module.parameters(recurse=False)),
            )
        )
    return infos


def find_layer(layers: list[LayerInfo], path: str) -> LayerInfo:
    """The catalogue entry for `path`, with near-match suggestions when it is missing."""
    for info in layers:
        if info.path == path:
            return info
    import difflib

    close = difflib.get_close_matches(path, [info.path for info in layers], n=5, cutoff=0.5)
    hint = f"Did you mean: {', '.join(close)}?" if close else "See the Layers page for valid names."
    raise LayerError(f"The model has no layer called '{path}'.", hint)


__all__ = ["LayerInfo", "catalogue", "find_layer", "layer_kind", "is_elementwise_activation", "resolve_module"]


def token_grid(n_tokens: int, max_prefix: int = 16) -> tuple[int, int, int]:
    """(prefix tokens, grid height, grid width) of a ViT-style token sequence.

    Why a search: class/distillation/register tokens come first and the patch tokens form a square
    grid at the model's own input size, so the smallest prefix leaving a perfect square wins.
    """
    import math

    for prefix in range(0, min(max_prefix, n_tokens - 1) + 1):
        side = math.isqrt(n_tokens - prefix)
        if side * side == n_tokens - prefix and side > 0:
            return prefix, side, side
    raise LayerError(
        f"{n_tokens} tokens do not form a square patch grid.",
        "This layer's tokens cannot be shown as a map; pick a block output of the backbone.",
    )


def position_grid(info: LayerInfo) -> tuple[int, int, int] | None:
    """(prefix tokens, h, w) of a layer whose output has positions to point at, else None.

    A C×H×W map with more than one cell, or tokens that form a square patch grid; what Grad-CAM
    weights and what a neuron's position is picked from.
    """
    if info.layout == "map" and info.shape[1] * info.shape[2] > 1:
        return 0, info.shape[1], info.shape[2]
    if info.layout == "tokens":
        try:
            return token_grid(info.shape[0])
        except LayerError:
            return None
    return None
