"""The layer catalogue: every module's dot path, type, output shape and kind.

Why measured and not read from the architecture: output shapes come from one dummy forward at
the model's own input size, so the catalogue is right for CNNs, ViTs and user models alike, and
pages can tell up front whether a layer has a spatial map, tokens, or only a vector.
"""
from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from .errors import LayerError, SettingsError, near_matches
from .hooks import capture, model_lock

if TYPE_CHECKING:
    from .hub import LoadedModel

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
    channels_last: bool = False  # a map stored as (H, W, C), as Swin-like stages do

    @property
    def layout(self) -> str:
        """'map' (C,H,W or H,W,C), 'tokens' (N,D), 'vector' (D,) or 'none'."""
        return {3: "map", 2: "tokens", 1: "vector"}.get(len(self.shape), "none")

    @property
    def channels(self) -> int:
        """Number of units one can pick: C for maps, D for tokens and vectors."""
        if self.layout == "map":
            return self.shape[2] if self.channels_last else self.shape[0]
        if self.layout in ("tokens", "vector"):
            return self.shape[-1]
        return 0

    @property
    def spatial(self) -> tuple[int, int] | None:
        """(H, W) of a map layer, else None."""
        if self.layout != "map":
            return None
        return (self.shape[0], self.shape[1]) if self.channels_last else (self.shape[1], self.shape[2])

    @property
    def geometry(self) -> "Geometry":
        """How to view this layer's output as (B, C, h, w) at any input size."""
        if self.layout == "tokens":
            try:
                prefix, height, width = token_grid(self.shape[0])
            except LayerError:
                return Geometry("tokens", prefix=-1)
            return Geometry("tokens", prefix=prefix, aspect=height / width)
        return Geometry(self.layout, channels_last=self.channels_last)


@dataclass(frozen=True)
class Geometry:
    """The layout of a layer's output, so every engine views it the same way: (B, C, h, w).

    Why one helper: conv maps, channels-last maps and token sequences (with class, distillation
    or register tokens in front) all hold "C channels at h×w positions"; targets, objectives,
    Grad-CAM, top patches and embeddings read them through `grid` / `positions` and never look
    at the raw layout. The grid size is read from the tensor, so it holds at any input size.
    """

    layout: str  # map | tokens | vector | none
    prefix: int = 0  # tokens before the patch grid; -1: tokens that form no grid
    channels_last: bool = False
    aspect: float = 1.0  # grid height / width of a token layer

    @classmethod
    def infer(cls, value: torch.Tensor) -> "Geometry":
        """The geometry of a bare (B, ...) tensor: channels-first maps, tokens with a square grid."""
        if value.ndim == 4:
            return cls("map")
        if value.ndim == 3:
            try:
                return cls("tokens", prefix=token_grid(value.shape[1])[0])
            except LayerError:
                return cls("tokens", prefix=-1)
        return cls("vector" if value.ndim == 2 else "none")

    def grid(self, value: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) view of the layer's output (vectors: h = w = 1)."""
        if self.layout == "map" and value.ndim == 4:
            return value.permute(0, 3, 1, 2) if self.channels_last else value
        if self.layout == "tokens" and value.ndim == 3:
            if self.prefix < 0:
                raise LayerError(f"{value.shape[1]} tokens form no patch grid.", "Pick a block output of the backbone.")
            patches = value[:, self.prefix :, :]
            count = patches.shape[1]
            width = max(1, round(math.sqrt(count / self.aspect)))
            height = count // width
            if height * width != count:
                raise LayerError(f"{count} patch tokens do not fill a grid of aspect {self.aspect:g}.", "Pick a block output of the backbone.")
            return patches.transpose(1, 2).reshape(value.shape[0], value.shape[2], height, width)
        if value.ndim == 2:
            return value[:, :, None, None]
        raise LayerError(f"An output of shape {tuple(value.shape)} has no channels at positions.", "Pick a layer with a map, tokens or a vector.")

    def positions(self, value: torch.Tensor) -> torch.Tensor:
        """(B, C, positions): the grid flattened (what Gram matrices and top-k maxima need)."""
        return self.grid(value).flatten(2)


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
    input_hw = (int(example.shape[-2]), int(example.shape[-1]))
    infos = []
    for name, module in model.named_modules():
        if not name:
            continue
        shape = tuple(int(s) for s in shapes.get(name, ()))
        infos.append(
            LayerInfo(
                path=name,
                type_name=type(module).__name__,
                shape=shape,
                kind=layer_kind(module),
                depth=name.count(".") + 1,
                parameters=sum(p.numel() for p in module.parameters(recurse=False)),
                channels_last=_channels_last(shape, input_hw),
            )
        )
    return infos


def _channels_last(shape: tuple[int, ...], input_hw: tuple[int, int]) -> bool:
    """True for an (H, W, C) map: its first two axes, not its last two, have the input's aspect.

    Why a shape test: Swin-like stages return (B, H, W, C) tensors with nothing else to tell them
    apart; a channels-first map's last two axes follow the input's aspect ratio.
    """
    if len(shape) != 3:
        return False
    aspect = input_hw[0] / input_hw[1]
    first_two, last_two = shape[0] / shape[1], shape[1] / shape[2]
    fits = lambda ratio, size: abs(ratio - aspect) <= 0.15 * aspect and size <= input_hw[0]  # noqa: E731
    return fits(first_two, shape[0]) and not fits(last_two, shape[1])


def find_layer(layers: list[LayerInfo], path: str) -> LayerInfo:
    """The catalogue entry for `path`, with near-match suggestions when it is missing."""
    for info in layers:
        if info.path == path:
            return info
    raise LayerError(f"The model has no layer called '{path}'.", near_matches(path, [info.path for info in layers], "See the Layers page for valid names."))


def token_grid(n_tokens: int, max_prefix: int = 16) -> tuple[int, int, int]:
    """(prefix tokens, grid height, grid width) of a ViT-style token sequence.

    Why a search: class/distillation/register tokens come first and the patch tokens form a square
    grid at the model's own input size, so the smallest prefix leaving a perfect square wins.
    """
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
    if info.layout == "map" and info.spatial is not None and info.spatial[0] * info.spatial[1] > 1:
        return 0, info.spatial[0], info.spatial[1]
    if info.layout == "tokens":
        try:
            return token_grid(info.shape[0])
        except LayerError:
            return None
    return None


# what timm raises for an input it was not built for: position embeddings or attention biases of
# another length, windows that do not divide the map, "Input height (128) doesn't match model (224)"
SIZE_ERRORS = (AssertionError, RuntimeError, TypeError, ValueError, IndexError)


def size_failure(model: nn.Module, size: tuple[int, int], channels: int = 3) -> str | None:
    """Why `model` cannot run one image of `size` (H, W), or None when it can (or when only the
    meta device, not the size, is the problem: then the real forward decides)."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    try:
        with torch.inference_mode():
            model(torch.zeros((1, channels, *size), device=device))
    except NotImplementedError:  # an operation without a meta kernel says nothing about the size
        return None
    except SIZE_ERRORS as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {text[:160]}"
    return None


_INPUT_SIZES: "weakref.WeakKeyDictionary[nn.Module, tuple[int, int, int]]" = weakref.WeakKeyDictionary()
_FIXED: "weakref.WeakKeyDictionary[nn.Module, bool]" = weakref.WeakKeyDictionary()
_SIZES_GUARD = threading.Lock()


def remember_input_size(model: nn.Module, input_size: tuple[int, int, int]) -> None:
    """Record the (C, H, W) input a model is loaded for (every LoadedModel does), so that
    `fixed_input_size` can try the smaller sizes the engines derive from it."""
    size = tuple(int(v) for v in input_size)
    with _SIZES_GUARD:
        if _INPUT_SIZES.get(model) != size:  # a new size (a configured model's own): measure again
            _FIXED.pop(model, None)
        _INPUT_SIZES[model] = size  # type: ignore[assignment]


def smaller_sizes(size: tuple[int, int]) -> list[tuple[int, int]]:
    """The (H, W) sizes synthesis shows a model below its own `size`: random crops at the default
    view scale (0.72, rounded to 8 px) and DeepDream's two lower octaves (1.4 and 1.4²)."""
    crops = tuple(max(8, 8 * round(side * 0.72 / 8)) for side in size)
    octaves = [tuple(max(8, round(side / factor)) for side in size) for factor in (1.4, 1.4**2)]
    return list(dict.fromkeys([crops, *octaves]))  # type: ignore[list-item]


def fixed_input_size(model: nn.Module) -> bool:
    """True for models that run only at the size they were loaded for.

    Why measured: a patch embedding fixes a ViT's token grid, but so do windows that must divide
    the map (MaxViT, GC ViT), attention biases and token MLPs sized at build time (LeViT,
    EfficientFormer, Mixer, CoaT), branches fused at equal sizes (HRNet, DLA) and large kernels
    deep down (Inception at small sizes). So the model runs once at each of `smaller_sizes`,
    under its lock, and is fixed when one fails; the answer is kept per model. A module without
    a recorded size (not loaded by convlens) is fixed when it has a patch embedding.
    The one test that random crops, DeepDream's octaves and style transfer's resizing share.
    """
    with _SIZES_GUARD:
        known, input_size = _FIXED.get(model), _INPUT_SIZES.get(model)
    if known is not None:
        return known
    if input_size is None:
        return hasattr(model, "patch_embed")
    channels, height, width = input_size
    with model_lock(model):
        fixed = any(size_failure(model, size, channels) is not None for size in smaller_sizes((height, width)))
    with _SIZES_GUARD:
        _FIXED[model] = fixed
    return fixed


def classifier_paths(model: nn.Module) -> tuple[str, ...]:
    """Dot paths of the final classifier(s), whose *inputs* together are the penultimate code.

    timm's `get_classifier()` is one module for most models, a (head, head_dist) pair for
    distilled models (DeiT, LeViT, EfficientFormer) and a ModuleList of one head per branch for
    CrossViT, whose `forward_head` no single hook can see; every member is listed, in order.
    Without `get_classifier`, the last nn.Linear stands in for it.
    """
    getter = getattr(model, "get_classifier", None)
    head = getter() if callable(getter) else None
    members = list(head) if isinstance(head, (tuple, list, nn.ModuleList)) else [head]
    names = {id(module): name for name, module in model.named_modules() if name}
    paths = tuple(names[id(member)] for member in members if isinstance(member, nn.Module) and id(member) in names)
    if paths:
        return paths
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if linears:
        return (linears[-1],)
    raise LayerError("This model has no final linear classifier, so it has no penultimate code.", "Pick a named layer instead.")


def stage_outputs(model: nn.Module, layers: list[LayerInfo]) -> list[str]:
    """Outputs of the model's stages (one per resolution), shallow to deep.

    timm lists them in `feature_info`; where it names no layer of the model (Twins and MViTv2 list
    `block.0`…) and for other models, the last map or token grid of each size near the top of
    the module tree stands in for it. Read once per model (`LoadedModel.stages`).
    """
    usable = {info.path for info in layers if info.layout in ("map", "tokens")}
    entries = getattr(model, "feature_info", None)
    names: list[str] = []
    if entries is not None:
        listed = entries.get_dicts() if hasattr(entries, "get_dicts") else list(entries)
        names = [str(entry["module"]) for entry in listed if isinstance(entry, dict) and entry.get("module")]
    names = [name for name in names if name in usable]
    if names:
        return names
    by_size: dict[tuple[int, int], str] = {}
    for info in layers:
        grid = position_grid(info) if info.depth <= 2 and info.kind != "norm" else None
        if grid is not None and min(grid[1:]) > 1:  # 1×1 maps hold no texture
            by_size[grid[1:]] = info.path  # later layers of a size win
    return list(by_size.values())


def stage_blocks(m: "LoadedModel") -> list[str]:
    """The model's sequence of blocks at the level its stages live on (EfficientNet blocks.0..6,
    ResNet layer1..4, ViT blocks.0..11), shallow to deep: where a "depth" of the network is read."""
    layers = m.layers()
    parents = [name.rpartition(".")[0] for name in m.stages]
    if parents:
        parent = max(set(parents), key=parents.count)
        prefix = f"{parent}." if parent else ""
        depth = parent.count(".") + 2 if parent else 1
        blocks = [info.path for info in layers if info.path.startswith(prefix) and info.depth == depth and info.kind == "block" and info.layout in ("map", "tokens")]
        if blocks:
            return blocks
        return list(m.stages)  # stages that are single layers (VGG's ReLUs): the stages are the blocks
    return [info.path for info in layers if info.depth <= 2 and info.kind == "block" and info.layout in ("map", "tokens")]


PURPOSES = ("grad_cam", "patches", "neuron", "deepdream", "unit")
# how deep into the stage blocks a purpose's default sits: deep units show object parts, DeepDream
# is most striking in the middle of the network
_DEPTH = {"neuron": 0.8, "deepdream": 0.5, "unit": 0.5}


def default_layer(m: "LoadedModel", purpose: str) -> str:
    """The layer a method uses when the user names none, chosen in this one place for every page.

    grad_cam: the last spatial map before the head (EfficientNet `bn2`, ResNet `layer4`); on token
    models the input norm of the last block, because after the last attention the patch tokens no
    longer reach a class-token head. patches: the first map at stride 16 or more, whose units see
    a part of the image. neuron / deepdream / unit: a block 80 % / 50 % / 50 % deep.
    """
    layers = m.layers()
    if purpose == "grad_cam":
        norms = [info.path for info in layers if info.layout == "tokens" and info.path.endswith("norm1")]
        top = [info.path for info in layers if info.depth == 1 and position_grid(info) is not None]
        anywhere = [info.path for info in layers if position_grid(info) is not None]
        for candidates in (norms, top, anywhere):
            if candidates:
                return candidates[-1]
        raise LayerError(f"{m.name} has no layer with a spatial map or a token grid, so Grad-CAM does not apply.")
    if purpose == "patches":
        _, in_h, _ = m.input_size
        shallow = [info for info in layers if info.depth <= 2]
        leaves = [info for info in shallow if not any(other.path.startswith(info.path + ".") for other in shallow)]  # no containers of stages
        has_map = lambda info: info.layout == "map" and info.spatial is not None and info.spatial[0] >= 2  # noqa: E731
        maps = [info for info in leaves if has_map(info) and info.kind in ("block", "activation")]
        tokens = [info for info in leaves if info.layout == "tokens" and info.kind == "block"]
        if not maps and not tokens:  # blocks whose shallow children are branches (Inception's Mixed_*): the blocks themselves
            maps = [info for info in map(lambda path: find_layer(layers, path), stage_blocks(m)) if has_map(info)]
        for info in maps:
            if info.spatial and info.spatial[0] <= in_h / 16:
                return info.path
        if maps:
            return maps[-1].path
        if tokens:
            return tokens[len(tokens) // 2].path
        raise LayerError(f"{m.name} has no layer with spatial units to rank.", "Top patches need a conv or token layer.")
    if purpose in _DEPTH:
        blocks = stage_blocks(m) or [info.path for info in layers if info.path in m.stages and position_grid(info) is not None]  # small nets: their stages
        if not blocks:
            raise LayerError(f"{m.name} has no block with a spatial map or tokens.", "Pick a layer on the Layers page.")
        return blocks[int(_DEPTH[purpose] * (len(blocks) - 1) + 0.5)]
    raise SettingsError(f"Unknown purpose '{purpose}' for a default layer.", f"Use one of: {', '.join(PURPOSES)}.")


def spread_stages(m: "LoadedModel", count: int) -> list[str]:
    """`count` stage outputs spread evenly from shallow to deep, the deepest included
    (inversion at several depths: the lecture's slide)."""
    names = list(m.stages) or [info.path for info in m.layers() if info.layout in ("map", "tokens") and info.kind == "block"]
    if len(names) <= count:
        return names
    picks = np.linspace(0, len(names) - 1, count + 1)[1:]
    return [names[int(round(i))] for i in picks]


def style_layers(m: "LoadedModel", most: int = 5) -> tuple[str, tuple[str, ...]]:
    """(content layer, style layers) for neural style, from the model's stage outputs.

    Style: up to `most` stages evenly spread from shallow (fine texture) to deep (large motifs),
    as Gatys et al. used conv1_1 … conv5_1. Content: the second-deepest, as their conv4_2 sits
    one stage below the top: deep enough to let the texture change, shallow enough to keep the layout.
    """
    stages = list(m.stages)
    if len(stages) < 2:
        raise LayerError(
            f"{m.name} has no stages of feature maps to take style statistics from.",
            "Neural style needs a CNN (or a ViT) with several feature layers; choose them by hand.",
        )
    if len(stages) > most:
        picks = np.linspace(0, len(stages) - 1, most).round().astype(int)
        stages = [stages[i] for i in dict.fromkeys(picks.tolist())]
    return stages[-2], tuple(stages)
