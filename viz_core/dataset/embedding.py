"""Feature embeddings of a collection: collection, 2-D maps (PCA, t-SNE, UMAP), neighbours, mosaics.

Why: CS231n's fc7 t-SNE (van der Maaten & Hinton, 2008) shows what a network groups together;
nearest neighbours in feature space next to neighbours in pixel space show that the code is about
content, not colour and layout (Krizhevsky et al., 2012).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DatasetError, LayerError, SettingsError
from ..layers import Geometry, find_layer
from ..results import Features, Neighbours, OnStep, Projection, report
from .scan import Batch, scan
from .sources import CollectionSource, collection as as_collection

if TYPE_CHECKING:
    from ..hub import LoadedModel

PRE_LOGITS = "pre_logits"
METHODS = ("pca", "tsne", "umap")


class FeatureCollector:
    """Consumer: one vector per image (penultimate code or a pooled layer), predictions, thumbnails."""

    def __init__(self, layer: str | None = None, pool: str = "avg", dtype: str = "float32", thumbnail: int = 48, geometry: Geometry | None = None) -> None:
        if pool not in ("avg", "flatten"):
            raise SettingsError(f"Unknown pooling '{pool}'.", "Use 'avg' (global average) or 'flatten'.")
        if dtype not in ("float32", "float16"):
            raise SettingsError(f"Unknown feature dtype '{dtype}'.", "Use 'float32' or 'float16'.")
        self.layer, self.pool, self.dtype, self.thumbnail = layer, pool, np.dtype(dtype), int(thumbnail)
        self.geometry = geometry
        self.wants_pre_logits = layer is None
        self.values: list[np.ndarray] = []
        self.predicted: list[np.ndarray] = []
        self.thumbnails: list[np.ndarray] = []
        self.indices: list[np.ndarray] = []

    def layers(self) -> tuple[str, ...]:
        return () if self.layer is None else (self.layer,)

    def _vector(self, batch: Batch) -> torch.Tensor:
        if self.layer is None:
            assert batch.pre_logits is not None
            return batch.pre_logits.flatten(1)
        act = batch.activations[self.layer]
        if self.pool == "flatten" or act.ndim <= 2:
            return act.flatten(1)
        return (self.geometry or Geometry.infer(act)).positions(act).mean(dim=2)

    def update(self, batch: Batch) -> None:
        self.values.append(self._vector(batch).float().cpu().numpy().astype(self.dtype))
        self.predicted.append(batch.logits.argmax(dim=-1).cpu().numpy())
        small = F.interpolate(torch.from_numpy(batch.images01).permute(0, 3, 1, 2), size=(self.thumbnail, self.thumbnail), mode="area")
        self.thumbnails.append((small.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8))
        self.indices.append(batch.indices)


def features(
    m: "LoadedModel",
    source: CollectionSource,
    layer: str | None = None,
    *,
    pool: str = "avg",
    dtype: str = "float32",
    limit: int | None = None,
    seed: int = 0,
    thumbnail: int = 48,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> Features:
    """Feature vectors of a collection: timm's penultimate code by default, or any layer.

    layer=None: `forward_head(forward_features(x), pre_logits=True)`; a map or token layer is
    global-average pooled (pool="avg") or flattened (pool="flatten"). `limit` samples that many
    images (seeded) from a big collection; float16 halves the memory.
    """
    c = as_collection(source)
    geometry = None
    if layer is not None:
        info = find_layer(m.layers(), layer)
        if info.layout == "none":
            raise LayerError(f"Layer '{layer}' outputs no tensor to take features from.", "Pick a block, conv or token layer.")
        geometry = info.geometry
    subset, chosen = c.sample(limit, seed)
    collector = FeatureCollector(layer, pool, dtype, thumbnail, geometry)
    scanned = scan(m, subset, [collector], batch_size=batch_size, on_step=on_step)
    rows = np.concatenate(collector.indices)
    # a backbone without a classifier head outputs its feature vector: no predicted class (-1)
    predicted = np.concatenate(collector.predicted).astype(np.int64) if m.num_classes else np.full(len(rows), -1, dtype=np.int64)
    return Features(
        values=np.concatenate(collector.values),
        labels=c.labels[chosen[rows]],
        label_names=c.label_names,
        predicted=predicted,
        class_names=tuple(m.class_names),
        indices=chosen[rows],
        names=tuple(c.names[int(i)] for i in chosen[rows]),
        thumbnails=np.concatenate(collector.thumbnails),
        layer=layer or PRE_LOGITS,
        pool="none" if layer is None else pool,
        collection=c.title,
        collection_digest=c.digest,
        skipped=scanned.skipped,
        params={"method": "features", "layer": layer or PRE_LOGITS, "pool": pool, "dtype": dtype, "limit": limit, "seed": seed, "collection": c.title, "collection_digest": c.digest},
        notes=() if m.num_classes else (f"{m.name} has no classifier head, so no image has a predicted class (predicted is -1).",),
    )


def _numba_cache() -> None:
    """umap-learn compiles with numba on first use; give it a writable cache so that happens once."""
    if "NUMBA_CACHE_DIR" not in os.environ:
        folder = Path(tempfile.gettempdir()) / "convlens-numba-cache"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(folder)


def warm_umap(on_step: OnStep | None = None) -> float:
    """Import umap-learn and fit a tiny set once, so numba's compilation is not paid on real data.

    Returns the seconds it took (≈10-20 s the first time in a process with a cold cache, <1 s after).
    """
    started = time.perf_counter()
    report(on_step, 0.0, "compiling UMAP (first use only)")
    _numba_cache()
    import umap

    points = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    umap.UMAP(n_neighbors=5, n_epochs=5, random_state=0, n_jobs=1).fit_transform(points)
    report(on_step, 1.0, "UMAP ready")
    return time.perf_counter() - started


def _reduce(values: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """PCA to `dims` dimensions before t-SNE/UMAP (standard practice: faster, less noise)."""
    from sklearn.decomposition import PCA

    values = np.asarray(values, dtype=np.float32)
    if values.shape[1] <= dims or values.shape[0] <= dims:
        return values
    return PCA(n_components=dims, random_state=seed).fit_transform(values).astype(np.float32)


def project(
    data: Features | np.ndarray,
    method: str = "umap",
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    pca_dims: int = 50,
    on_step: OnStep | None = None,
) -> Projection:
    """(N, D) features -> (N, 2) map by PCA, t-SNE (openTSNE) or UMAP (umap-learn), seeded.

    perplexity is t-SNE's effective neighbour count; n_neighbors and min_dist are UMAP's locality
    and packing. t-SNE and UMAP first reduce to `pca_dims` with PCA.
    """
    values = np.asarray(data.values if isinstance(data, Features) else data, dtype=np.float32)
    if method not in METHODS:
        raise SettingsError(f"Unknown projection '{method}'.", f"Use one of: {', '.join(METHODS)}.")
    if values.ndim != 2 or values.shape[0] < 3:
        raise DatasetError(f"Need at least 3 feature vectors to project; got shape {values.shape}.", "Use a larger collection.")
    if not np.isfinite(values).all():
        raise DatasetError("The features contain NaN or infinite values.", "Try another layer or float32 features.")
    n = values.shape[0]
    started = time.perf_counter()
    params: dict[str, Any] = {"seed": int(seed), "points": n}
    if method == "pca":
        from sklearn.decomposition import PCA

        report(on_step, 0.1, "PCA")
        coords = PCA(n_components=2, random_state=seed).fit_transform(values)
    elif method == "tsne":
        from openTSNE import TSNE

        perplexity = float(min(perplexity, (n - 1) / 3))
        params.update(perplexity=perplexity, pca_dims=pca_dims)
        reduced = _reduce(values, pca_dims, seed)
        report(on_step, 0.1, "t-SNE: affinities")
        iterations = [0]

        def progress(iteration: int, error: float, embedding: Any) -> None:
            iterations[0] += 50
            report(on_step, 0.1 + 0.9 * min(iterations[0] / 750, 1.0), f"t-SNE: iteration {iterations[0]} of 750")

        tsne = TSNE(perplexity=perplexity, random_state=seed, n_jobs=1, callbacks=progress, callbacks_every_iters=50, verbose=False)
        coords = np.asarray(tsne.fit(reduced))
    else:
        report(on_step, 0.05, "UMAP: loading (compiles on first use)")
        _numba_cache()
        import umap

        neighbours_count = int(min(n_neighbors, n - 1))
        params.update(n_neighbors=neighbours_count, min_dist=float(min_dist), pca_dims=pca_dims)
        reduced = _reduce(values, pca_dims, seed)
        report(on_step, 0.3, "UMAP: fitting")
        coords = umap.UMAP(n_neighbors=neighbours_count, min_dist=min_dist, random_state=seed, n_jobs=1, init="spectral" if n > neighbours_count + 2 else "random").fit_transform(reduced)
    report(on_step, 1.0, "done")
    params["method"] = method
    return Projection(np.asarray(coords, dtype=np.float32), method, params, time.perf_counter() - started)


def _distances(matrix: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    if metric == "cosine":
        norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12
        return 1.0 - (matrix @ query) / norms
    if metric == "euclidean":
        return np.linalg.norm(matrix - query, axis=1)
    raise SettingsError(f"Unknown metric '{metric}'.", "Use 'cosine' or 'euclidean'.")


def neighbours(f: Features, index: int, k: int = 8, space: str = "features", metric: str | None = None) -> Neighbours:
    """The k images nearest to row `index` of `f`, in feature space or in pixel space.

    Pixel space is the thumbnails (the model's view, downscaled) compared by Euclidean distance;
    feature space uses cosine distance by default.
    """
    if not 0 <= index < len(f.values):
        raise DatasetError(f"Image {index} is out of range: the feature set has {len(f.values)} images.")
    if space == "features":
        matrix, metric = f.values.astype(np.float32), metric or "cosine"
    elif space == "pixels":
        matrix, metric = f.thumbnails.reshape(len(f.thumbnails), -1).astype(np.float32) / 255.0, metric or "euclidean"
    else:
        raise SettingsError(f"Unknown space '{space}'.", "Use 'features' or 'pixels'.")
    distances = _distances(matrix, matrix[index], metric)
    distances[index] = np.inf
    count = int(min(k, len(distances) - 1))
    order = np.argsort(distances, kind="stable")[:count]
    return Neighbours(int(index), order.astype(np.int64), distances[order].astype(np.float32), space, metric, params={"index": int(index), "k": count, "space": space, "metric": metric})


def mosaic(coords: np.ndarray, thumbnails: np.ndarray, grid: int = 24) -> np.ndarray:
    """The t-SNE grid picture: a `grid`×`grid` lattice over the 2-D map, each occupied cell showing
    the image nearest its centre (empty cells stay white). Returns (grid·t, grid·t, 3) uint8.
    """
    coords = np.asarray(coords, dtype=np.float64)
    low, high = coords.min(axis=0), coords.max(axis=0)
    unit = (coords - low) / np.where(high > low, high - low, 1.0)
    cells = np.minimum((unit * grid).astype(int), grid - 1)
    centre_distance = np.linalg.norm(unit * grid - (cells + 0.5), axis=1)
    size = thumbnails.shape[1]
    canvas = np.full((grid * size, grid * size, 3), 255, dtype=np.uint8)
    best: dict[tuple[int, int], int] = {}
    for i, (cx, cy) in enumerate(cells):
        key = (int(cy), int(cx))
        if key not in best or centre_distance[i] < centre_distance[best[key]]:
            best[key] = i
    for (cy, cx), i in best.items():
        row = grid - 1 - cy  # y grows upwards on the map, downwards in the picture
        canvas[row * size : (row + 1) * size, cx * size : (cx + 1) * size] = thumbnails[i]
    return canvas
