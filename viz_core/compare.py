"""Comparing models and methods: maps on one scale, their rank correlation, and linear CKA between layers.

Why these measures: two attribution maps are rarely on the same scale (other weights, other
methods), so they are compared by *rank* (Spearman's ρ), after each is divided by its robust
maximum for display. Two layers' representations have different widths and bases, so they are
compared by linear CKA (Kornblith et al., 2019), which is invariant to orthogonal transforms and
isotropic scaling of either representation but not to arbitrary invertible maps.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from .errors import LayerError, SettingsError
from .layers import find_layer
from .results import OnStep, report

if TYPE_CHECKING:
    from .dataset.sources import CollectionSource
    from .hub import LoadedModel


# --- maps -------------------------------------------------------------------------------------


def attribution_map(result: Any) -> tuple[np.ndarray, bool]:
    """The (H, W) map a result shows and whether it is signed: Grad-CAM's upsampled map, an
    attribution's signed channel sum, an occlusion's drop."""
    from .results import Attribution, GradCam, OcclusionMap

    if isinstance(result, GradCam):
        return np.asarray(result.upsampled, dtype=np.float64), False
    if isinstance(result, Attribution):
        return np.asarray(result.map, dtype=np.float64), True
    if isinstance(result, OcclusionMap):
        return np.asarray(result.drop, dtype=np.float64), True
    raise SettingsError(f"A {type(result).__name__} has no attribution map to compare.", "Compare attributions, Grad-CAM or occlusion maps.")


def resample(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 2-D map resized to (H, W) (area means when shrinking, bilinear when enlarging), so maps of
    models at other input sizes line up."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape == tuple(size):
        return values
    tensor = torch.from_numpy(values)[None, None]
    if size[0] <= values.shape[0] and size[1] <= values.shape[1]:
        return F.interpolate(tensor, size=tuple(size), mode="area")[0, 0].numpy()
    return F.interpolate(tensor, size=tuple(size), mode="bilinear", align_corners=False)[0, 0].numpy()


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (the larger is resampled to the smaller's size first).

    NaN when either map is constant (no order to compare).
    """
    from scipy.stats import rankdata

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        size = min(a.shape, b.shape, key=lambda s: s[0] * s[1])
        a, b = resample(a, size), resample(b, size)
    ra, rb = rankdata(a.ravel()), rankdata(b.ravel())
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = float(np.sqrt((ra @ ra) * (rb @ rb)))
    return float(ra @ rb / denominator) if denominator > 0 else float("nan")


@dataclass(frozen=True)
class MapComparison:
    """Maps of several models (or methods) on one image, on one scale, with their rank correlations.

    maps: name -> (H, W) map divided by its robust max |value| ([-1, 1] when signed, else [0, 1]);
    correlation: (n, n) Spearman ρ between the raw maps; differences: (a, b) -> map_a - map_b for
    pairs whose maps share a size.
    """

    names: tuple[str, ...]
    maps: dict[str, np.ndarray]
    signed: bool
    correlation: np.ndarray
    differences: dict[tuple[str, str], np.ndarray]
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def compare_maps(results: Mapping[str, Any], *, differences: bool = True, **params: Any) -> MapComparison:
    """Put the maps of several results side by side: one scale, Spearman ρ for every pair, and (with
    `differences`) the difference of every pair of equal size: meaningful for one method on several
    models, less so between methods that measure different things."""
    from .figures.display import normalised

    if len(results) < 2:
        raise SettingsError("Comparing needs at least two maps.", "Choose two or more models or methods.")
    raw = {name: attribution_map(result) for name, result in results.items()}
    signed = any(s for _, s in raw.values())
    names = tuple(raw)
    maps = {name: normalised(values, signed) for name, (values, _) in raw.items()}
    correlation = np.eye(len(names))
    pairs: dict[tuple[str, str], np.ndarray] = {}
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            correlation[i, j] = correlation[j, i] = spearman(raw[a][0], raw[b][0])
            if differences and maps[a].shape == maps[b].shape:
                pairs[(a, b)] = maps[a] - maps[b]
    notes = []
    sizes = {maps[n].shape for n in names}
    if differences and len(sizes) > 1:
        notes.append("The maps have different sizes (the models see different input sizes): ρ is computed after resampling to the smaller one, and there is no difference map for those pairs.")
    return MapComparison(names, maps, signed, correlation, pairs, params=dict(params), notes=tuple(notes))


# Attribution methods by the names a page, a report and the command line offer.
METHODS: dict[str, str] = {
    "vanilla": "vanilla gradient",
    "guided": "guided backprop",
    "deconvnet": "deconvnet",
    "gradient_x_input": "gradient × input",
    "integrated_gradients": "integrated gradients",
    "smoothgrad": "SmoothGrad",
    "grad_cam": "Grad-CAM",
    "occlusion": "occlusion",
}


def explain(m: "LoadedModel", image: Any, method: str, target: Any, *, layer: str | None = None, seed: int = 0) -> Any:
    """One attribution by method name (a key of METHODS), with the defaults the dashboard uses.

    Why one switch: comparing methods, the report and the command line all pick methods by name.
    """
    from . import attribution as A

    if method in ("vanilla", "guided", "deconvnet"):
        return A.backprop(m, image, target, rule=method)
    if method == "gradient_x_input":
        return A.gradient_x_input(m, image, target)
    if method == "integrated_gradients":
        return A.integrated_gradients(m, image, target, steps=16)
    if method == "smoothgrad":
        return A.smoothgrad(m, image, target, samples=16, seed=seed)
    if method == "grad_cam":
        return A.grad_cam(m, image, target, layer=layer)
    if method == "occlusion":
        return A.occlusion(m, image, target)
    raise SettingsError(f"There is no attribution method called {method!r}.", f"Choose one of: {', '.join(METHODS)}.")


def relative_layer(m: "LoadedModel", depth: float) -> str:
    """The stage output at relative depth `depth` in [0, 1] (0: the first stage, 1: the last), so two
    architectures can be read "at the same depth"."""
    if not 0.0 <= depth <= 1.0:
        raise SettingsError(f"A relative depth is between 0 and 1, not {depth}.")
    stages = [s for s in m.stages if find_layer(m.layers(), s).layout in ("map", "tokens")]
    if not stages:
        raise LayerError(f"{m.name} has no stage with a spatial map or tokens.", "Use its default Grad-CAM layer instead.")
    return stages[int(round(depth * (len(stages) - 1)))]


# --- representations --------------------------------------------------------------------------


def _centred(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean(axis=0, keepdims=True)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two representations of the same N examples, (N, D1) and (N, D2) (Kornblith et al., 2019).

    CKA = ‖Yᵀ X‖²_F / (‖Xᵀ X‖_F ‖Yᵀ Y‖_F) on column-centred X, Y; computed through the N×N Gram
    matrices, so wide layers cost N², not D².
    """
    x, y = _centred(x), _centred(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise SettingsError(f"CKA needs two (N, D) matrices of the same N examples, not {x.shape} and {y.shape}.")
    if x.shape[0] < 2:
        raise SettingsError("CKA needs at least two examples.")
    gx, gy = x @ x.T, y @ y.T
    cross = float((gx * gy).sum())
    scale = float(np.sqrt((gx * gx).sum() * (gy * gy).sum()))
    return cross / scale if scale > 0 else float("nan")


class _LayerCollector:
    """A `scan` consumer keeping each layer's output per image, average-pooled to at most grid×grid."""

    wants_pre_logits = False

    def __init__(self, m: "LoadedModel", layers: Sequence[str], grid: int) -> None:
        self._geometry = {name: find_layer(m.layers(), name).geometry for name in layers}
        self._layers = tuple(layers)
        self._grid = grid
        self.values: dict[str, list[np.ndarray]] = {name: [] for name in layers}
        self.indices: list[np.ndarray] = []

    def layers(self) -> tuple[str, ...]:
        return self._layers

    def update(self, batch: Any) -> None:
        for name in self._layers:
            value = self._geometry[name].grid(batch.activations[name]).float()
            if value.shape[-1] * value.shape[-2] > 1:
                value = F.adaptive_avg_pool2d(value, (min(value.shape[-2], self._grid), min(value.shape[-1], self._grid)))
            self.values[name].append(value.flatten(1).cpu().numpy())
        self.indices.append(batch.indices)


def layer_features(m: "LoadedModel", source: "CollectionSource", layers: Sequence[str], *, grid: int = 4, batch_size: int = 32, on_step: OnStep | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each layer's output for every image of a collection, (N, C·h·w) with h, w ≤ grid; and the row indices."""
    from .dataset.scan import scan

    collector = _LayerCollector(m, layers, grid)
    scan(m, source, [collector], batch_size=batch_size, on_step=on_step)
    return {name: np.concatenate(parts) for name, parts in collector.values.items()}, np.concatenate(collector.indices)


def pca2(values: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, 2) principal-component coordinates (deterministic signs)."""
    x = _centred(values)
    if x.shape[1] < 2 or x.shape[0] < 3:
        return np.pad(x[:, :2], ((0, 0), (0, max(0, 2 - x.shape[1])))).astype(np.float32)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    coords = x @ vt[:2].T
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), range(2)])
    return (coords * np.where(signs == 0, 1, signs)).astype(np.float32)


@dataclass(frozen=True)
class LayerSimilarity:
    """Linear CKA between the layers of two models over one collection, and each layer's 2-D map.

    cka: (len(layers_a), len(layers_b)); coords_a / coords_b: (layers, N, 2) PCA coordinates of
    each layer's representation, rows aligned with `indices` (positions in the collection).
    """

    model_a: str
    model_b: str
    layers_a: tuple[str, ...]
    layers_b: tuple[str, ...]
    cka: np.ndarray
    coords_a: np.ndarray
    coords_b: np.ndarray
    indices: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    collection: str
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def cka(
    m_a: "LoadedModel",
    m_b: "LoadedModel",
    source: "CollectionSource",
    layers_a: Sequence[str] | None = None,
    layers_b: Sequence[str] | None = None,
    *,
    limit: int | None = 256,
    seed: int = 0,
    grid: int = 4,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> LayerSimilarity:
    """Linear CKA between every layer of `layers_a` (of m_a) and `layers_b` (of m_b) over a collection.

    Layers default to each model's stage outputs. Each layer is average-pooled to at most
    grid×grid positions (flattened, so some spatial layout stays); `limit` images (seeded).
    """
    from .dataset.sources import collection as as_collection

    if grid < 1:
        raise SettingsError("The pooling grid must be at least 1.")
    c = as_collection(source)
    subset, chosen = c.sample(limit, seed)
    if len(subset) < 3:
        raise SettingsError("CKA needs at least three images.", "Choose a larger collection.")
    chosen_a = tuple(layers_a or m_a.stages)
    chosen_b = tuple(layers_b or m_b.stages)
    if not chosen_a or not chosen_b:
        raise LayerError("No layers to compare.", "Pick layers for both models.")
    same = m_a is m_b
    half = (lambda info: report(on_step, info.fraction * (1.0 if same else 0.5), f"{m_a.name}: {info.message}")) if on_step else None
    if same:
        values, rows = layer_features(m_a, subset, sorted(set(chosen_a) | set(chosen_b)), grid=grid, batch_size=batch_size, on_step=half)
        values_a = values_b = values
        rows_b = rows
    else:
        values_a, rows = layer_features(m_a, subset, chosen_a, grid=grid, batch_size=batch_size, on_step=half)
        second = (lambda info: report(on_step, 0.5 + info.fraction * 0.5, f"{m_b.name}: {info.message}")) if on_step else None
        values_b, rows_b = layer_features(m_b, subset, chosen_b, grid=grid, batch_size=batch_size, on_step=second)
    common = np.intersect1d(rows, rows_b)  # images both models could read
    pick_a, pick_b = np.searchsorted(rows, common), np.searchsorted(rows_b, common)
    matrix = np.array([[linear_cka(values_a[a][pick_a], values_b[b][pick_b]) for b in chosen_b] for a in chosen_a])
    report(on_step, 1.0, "done")
    return LayerSimilarity(
        model_a=m_a.name,
        model_b=m_b.name,
        layers_a=chosen_a,
        layers_b=chosen_b,
        cka=matrix,
        coords_a=np.stack([pca2(values_a[a][pick_a]) for a in chosen_a]),
        coords_b=np.stack([pca2(values_b[b][pick_b]) for b in chosen_b]),
        indices=chosen[common],
        labels=c.labels[chosen[common]],
        label_names=c.label_names,
        collection=c.title,
        params={"method": "linear_cka", "model_a": m_a.name, "weights_a": m_a.weights, "model_b": m_b.name, "weights_b": m_b.weights, "collection": c.title, "collection_digest": c.digest, "limit": limit, "seed": seed, "grid": grid, "images": int(common.size)},
        notes=(f"Each layer is average-pooled to at most {grid}×{grid} positions and flattened before CKA.",),
    )
