"""Max-activating patches (Girshick et al., 2014; CS231n's "pool5" rows) with measured receptive fields.

For each chosen channel of a layer: the k images of a collection where the channel's strongest
response is largest, and the patch around that position, cropped to the unit's receptive field.
The field is *measured* (the gradient of one unit w.r.t. the input), not computed from kernel
sizes and strides, so it is right for any architecture: residual CNNs, depthwise convs, ViTs.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LayerError, SettingsError
from ..hooks import activation_rule, capture, on_forward
from ..layers import Geometry, LayerInfo, default_layer, find_layer, is_elementwise_activation, token_grid
from ..results import OnStep, TopPatches, report
from .scan import Batch, scan
from .sources import CollectionSource, collection as as_collection

if TYPE_CHECKING:
    from ..hub import LoadedModel


@dataclass(frozen=True)
class ReceptiveField:
    """Where one unit of a layer looks, in model-input pixels.

    `box` (top, left, bottom, right; bottom/right exclusive) is the support of the input gradient of
    the centre unit `centre`; `stride` maps one step on the layer's grid to input pixels.
    """

    layer: str
    grid: tuple[int, int]
    centre: tuple[int, int]
    box: tuple[int, int, int, int]
    stride: tuple[float, float]
    gradient: np.ndarray  # (H, W) |d unit / d input|, summed over channels, max 1
    is_global: bool  # the field covers (almost) the whole input, e.g. after self-attention

    @property
    def size(self) -> tuple[int, int]:
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    def box_at(self, y: int, x: int) -> tuple[int, int, int, int]:
        """The field of unit (y, x): the centre unit's box moved by the grid stride (not clipped)."""
        dy = round((y - self.centre[0]) * self.stride[0])
        dx = round((x - self.centre[1]) * self.stride[1])
        top, left, bottom, right = self.box
        return top + dy, left + dx, bottom + dy, right + dx


def _grid(info: LayerInfo) -> tuple[int, int]:
    """(grid height, grid width) of a layer's units; a vector layer is one position."""
    if info.layout == "map" and info.spatial is not None:
        return info.spatial
    if info.layout == "tokens":
        _, height, width = token_grid(info.shape[0])
        return height, width
    if info.layout == "vector":
        return 1, 1
    raise LayerError(f"Layer '{info.path}' has an output of shape {tuple(info.shape)}; it has no units to rank.", "Pick a conv, block or token layer.")


def _average_instead(_name: str, pool: nn.Module, args: tuple[Any, ...], output: Any) -> torch.Tensor | None:
    """A max pool's window averaged (same output shape): every input of the window gets gradient."""
    assert isinstance(pool, nn.MaxPool2d)
    dilation = pool.dilation if isinstance(pool.dilation, int) else max(pool.dilation)
    if dilation != 1 or not isinstance(output, torch.Tensor):
        return None
    averaged = F.avg_pool2d(args[0], pool.kernel_size, pool.stride, pool.padding, ceil_mode=pool.ceil_mode)
    return averaged if averaged.shape == output.shape else None  # e.g. timm's dynamic "same" padding


def receptive_field(m: "LoadedModel", layer: str, samples: int = 2, seed: int = 0) -> ReceptiveField:
    """Measure the receptive field of `layer`'s centre unit from the gradient of the input.

    Why these choices: the score is the unit projected on a random direction over its channels
    (a plain channel sum is constant after a LayerNorm, as at the end of PVT's stages) and summed
    over a few noise images; while measuring, every elementwise activation passes its gradient unchanged and every max
    pool averages its window instead, so a unit that happens to be off (ReLU) or a max pool's
    choice of one input does not hide part of the field. The support (non-zero gradient) is then
    the theoretical field, whatever the weights; `gradient` shows how it is weighted.
    """
    info = find_layer(m.layers(), layer)
    height, width = _grid(info)
    channels, in_h, in_w = m.input_size
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((samples, channels, in_h, in_w), generator=generator).to(m.device).requires_grad_(True)
    direction = torch.randn(info.channels, generator=generator).to(m.device)
    activations = [name for name, module in m.model.named_modules() if name and is_elementwise_activation(module)]
    pools = [name for name, module in m.model.named_modules() if isinstance(module, nn.MaxPool2d)]
    cy, cx = height // 2, width // 2
    # pools swap first (hooks run in order), so a captured pool output is the averaged one
    with on_forward(m.model, pools, _average_instead), capture(m.model, [layer], detach=False) as store, activation_rule(m.model, activations, lambda _mod, _x, grad: grad):
        m.model(x)
        score = (info.geometry.grid(store[layer])[:, :, cy, cx] * direction).sum()
        (grad,) = torch.autograd.grad(score, [x], allow_unused=True)
    if grad is None:
        raise LayerError(f"The output of '{layer}' does not depend on the input image.", "Pick another layer.")
    magnitude = grad.detach().abs().sum(dim=(0, 1)).double().cpu().numpy()
    peak = float(magnitude.max())
    if peak <= 0:
        raise LayerError(f"The gradient of a unit of '{layer}' is zero everywhere; its receptive field cannot be measured.", "Pick another layer.")
    rows = np.flatnonzero((magnitude > peak * 1e-6).any(axis=1))
    cols = np.flatnonzero((magnitude > peak * 1e-6).any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    is_global = (box[2] - box[0]) >= 0.9 * in_h and (box[3] - box[1]) >= 0.9 * in_w
    return ReceptiveField(layer, (height, width), (cy, cx), box, (in_h / height, in_w / width), (magnitude / peak).astype(np.float32), is_global)


class TopK:
    """Streaming top-k per channel of the strongest response over positions; bounded memory.

    Also keeps the mean and variance of each channel's per-image maximum, to pick the channels
    that vary most across the collection.
    """

    wants_pre_logits = False

    def __init__(self, layer: str, k: int, channels: Sequence[int] | None = None, geometry: Geometry | None = None) -> None:
        self.layer = layer
        self.geometry = geometry
        self.k = int(k)
        self.channels = None if channels is None else torch.as_tensor(list(channels), dtype=torch.long)
        self.values: torch.Tensor | None = None  # (k, C)
        self.images: torch.Tensor | None = None  # (k, C)
        self.positions: torch.Tensor | None = None  # (k, C) flat index over the grid
        self.count = 0
        self.total: torch.Tensor | None = None
        self.total_sq: torch.Tensor | None = None

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def update(self, batch: Batch) -> None:
        act = batch.activations[self.layer].float()
        flat = (self.geometry or Geometry.infer(act)).positions(act)  # B, C, positions
        if self.channels is not None:
            flat = flat[:, self.channels]
        best, where = flat.max(dim=2)  # B, C
        images = torch.as_tensor(batch.indices, dtype=torch.long).view(-1, 1).expand_as(best)
        if self.values is None:
            self.values, self.images, self.positions = best[:0], images[:0], where[:0]
            self.total = torch.zeros(best.shape[1], dtype=torch.float64)
            self.total_sq = torch.zeros(best.shape[1], dtype=torch.float64)
        assert self.images is not None and self.positions is not None and self.total is not None and self.total_sq is not None
        values = torch.cat([self.values, best])
        keep = values.topk(min(self.k, values.shape[0]), dim=0).indices
        self.values = values.gather(0, keep)
        self.images = torch.cat([self.images, images]).gather(0, keep)
        self.positions = torch.cat([self.positions, where]).gather(0, keep)
        self.count += best.shape[0]
        self.total += best.double().sum(0)
        self.total_sq += best.double().pow(2).sum(0)

    def variance(self) -> np.ndarray:
        """Variance over images of each channel's maximal response."""
        assert self.total is not None and self.total_sq is not None
        mean = self.total / self.count
        return (self.total_sq / self.count - mean**2).clamp_min(0).numpy()


def _window(field: ReceptiveField, y: int, x: int, size: tuple[int, int], image_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """A `size` window centred on unit (y, x)'s field, shifted to lie inside the image."""
    top, left, bottom, right = field.box_at(y, x)
    height, width = size
    cy, cx = (top + bottom) / 2, (left + right) / 2
    y0 = int(np.clip(round(cy - height / 2), 0, image_hw[0] - height))
    x0 = int(np.clip(round(cx - width / 2), 0, image_hw[1] - width))
    return y0, x0, y0 + height, x0 + width


def top_patches(
    m: "LoadedModel",
    source: CollectionSource,
    layer: str | None = None,
    *,
    channels: Sequence[int] | None = None,
    k: int = 9,
    n_channels: int = 8,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> TopPatches:
    """The k most activating patches of each channel of `layer` (None: the model's default) over a collection.

    channels: indices to show, or None for the `n_channels` whose maximal response varies most
    across the collection. Each patch is the window of the unit's measured receptive field around
    the unit with the largest response in that image (for a field wider than the input: the whole
    input; for ViT tokens after attention, whose field is global: the token's own patch).
    """
    c = as_collection(source)
    layer = layer or default_layer(m, "patches")
    info = find_layer(m.layers(), layer)
    layout = info.layout
    grid_h, grid_w = _grid(info)
    if k < 1:
        raise SettingsError("k must be at least 1.")
    if channels is not None:
        channels = [int(ch) for ch in channels]
        bad = [ch for ch in channels if not 0 <= ch < info.channels]
        if bad or not channels:
            raise LayerError(f"Channel {bad[0] if bad else '(none)'} is out of range: '{layer}' has {info.channels} channels (0..{info.channels - 1}).")
    report(on_step, 0.0, "measuring the receptive field")
    field = receptive_field(m, layer)
    top = TopK(layer, k, channels, info.geometry)
    scanned = scan(m, c, [top], batch_size=batch_size, on_step=lambda s: report(on_step, 0.05 + 0.85 * s.fraction, s.message))
    variance = top.variance()
    if channels is None:
        order = np.argsort(-variance, kind="stable")[: max(1, min(n_channels, variance.size))]
        chosen = [int(ch) for ch in order]
        columns = order
    else:
        chosen, columns = channels, np.arange(len(channels))
    assert top.values is not None and top.images is not None and top.positions is not None
    values = top.values.numpy()[:, columns].T  # C, k
    images = top.images.numpy()[:, columns].T
    flat = top.positions.numpy()[:, columns].T
    ys, xs = (flat // grid_w, flat % grid_w) if layout != "vector" else (np.full_like(flat, -1), np.full_like(flat, -1))
    _, in_h, in_w = m.input_size
    if layout == "vector" or (field.is_global and layout == "map"):
        size, note = (in_h, in_w), f"Each unit of {layer} sees the whole input ({field.size[0]}×{field.size[1]} px field), so whole images are shown."
    elif field.is_global:
        size = (max(1, round(field.stride[0])), max(1, round(field.stride[1])))
        note = f"After self-attention each token of {layer} sees the whole image; the crops show the token's own {size[0]}×{size[1]} px patch, not its full field."
    else:
        size = (min(field.size[0], in_h), min(field.size[1], in_w))
        note = f"Measured receptive field of one unit of {layer}: {field.size[0]}×{field.size[1]} px of the {in_h}×{in_w} input."
    boxes = np.zeros(values.shape + (4,), dtype=np.int64)
    patches = np.zeros(values.shape + (size[0], size[1], 3), dtype=np.uint8)
    cache: dict[int, np.ndarray] = {}
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            index = int(images[row, col])
            if index not in cache:
                cache[index] = m.image01(c.load(index))
            if layout == "vector" or (field.is_global and layout == "map"):
                box = (0, 0, in_h, in_w)
            elif field.is_global:
                y, x = int(ys[row, col]), int(xs[row, col])
                y0, x0 = round(y * field.stride[0]), round(x * field.stride[1])
                box = (y0, x0, y0 + size[0], x0 + size[1])
            else:
                box = _window(field, int(ys[row, col]), int(xs[row, col]), size, (in_h, in_w))
            boxes[row, col] = box
            crop = cache[index][box[0] : box[2], box[1] : box[3]]
            patches[row, col] = (crop * 255).round().astype(np.uint8)
        report(on_step, 0.9 + 0.1 * (row + 1) / values.shape[0], "cropping patches")
    return TopPatches(
        layer=layer,
        channels=np.asarray(chosen, dtype=np.int64),
        values=values.astype(np.float32),
        image_indices=images.astype(np.int64),
        positions=np.stack([ys, xs], axis=-1).astype(np.int64),
        boxes=boxes,
        patches=patches,
        image_names=np.asarray([[c.names[int(i)] for i in row] for row in images], dtype=object),
        image_labels=np.asarray([[c.label_names[int(c.labels[int(i)])] for i in row] for row in images], dtype=object),
        channel_variance=variance[columns].astype(np.float32),
        rf_size=field.size,
        rf_box=field.box,
        rf_gradient=field.gradient,
        rf_global=field.is_global,
        notes=(note,),
        params={"method": "top_patches", "layer": layer, "channels": None if channels is None else list(channels), "k": int(k), "n_channels": n_channels, "collection": c.title, "collection_digest": c.digest},
        layout=layout,
        grid=(grid_h, grid_w),
        k=int(k),
        collection=c.title,
        collection_digest=c.digest,
        images_seen=scanned.images,
        skipped=scanned.skipped,
    )
