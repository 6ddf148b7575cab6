"""Frozen result types shared by every engine: numpy arrays in, the parameters that made them kept.

Why numpy and frozen: results go into Streamlit's data cache (pickled, copied) and into
downloads; they must not hold tensors, graphs or references to the model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepInfo:
    """Progress of a long run: `fraction` in [0, 1], a message, and optionally the current image."""

    fraction: float
    message: str = ""
    step: int | None = None
    score: float | None = None
    image: np.ndarray | None = None  # HxWx3 uint8 preview


OnStep = Callable[[StepInfo], None]


class Cancelled(Exception):
    """Raised by an `on_step` callback to stop a long run early."""


def report(on_step: OnStep | None, fraction: float, message: str = "", **extra: Any) -> None:
    """Call the progress callback if there is one (engines never check for None themselves)."""
    if on_step is not None:
        on_step(StepInfo(float(min(max(fraction, 0.0), 1.0)), message, **extra))


from dataclasses import field  # noqa: E402 - appended section (shared file)


@dataclass(frozen=True)
class Attribution:
    """A signed attribution of one target to every input value, and what made it.

    `attribution` is (C, H, W) in the model's normalised input space (the gradient, or a method
    built from it); `image` is the HxWx3 uint8 picture the model saw. `rule_applied` counts the
    activation calls a backprop rule replaced: 0 with a rule other than vanilla means the rule
    had nothing to act on, and the result equals the plain gradient.
    """

    method: str
    attribution: np.ndarray
    image: np.ndarray
    target: str
    score: float
    rule: str = "vanilla"
    rule_applied: int = 0
    rule_modules: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    baseline_score: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def saliency(self) -> np.ndarray:
        """(H, W) max over colour channels of |attribution| (Simonyan et al., 2014)."""
        return np.abs(self.attribution).max(axis=0)

    @property
    def map(self) -> np.ndarray:
        """(H, W) signed sum over colour channels."""
        return self.attribution.sum(axis=0)

    @property
    def completeness_gap(self) -> float | None:
        """sum(attribution) - (score - baseline score): ~0 for integrated gradients."""
        if self.baseline_score is None:
            return None
        return float(self.attribution.sum(dtype=np.float64) - (self.score - self.baseline_score))


@dataclass(frozen=True)
class GradCam:
    """Grad-CAM of one target at one layer: `map` (h, w) at the layer's grid, `upsampled` (H, W).

    `weights` (K,) are the channel weights (spatially averaged gradients); `map` is
    ReLU(sum_k weights_k * A_k), so only evidence *for* the target shows.
    """

    map: np.ndarray
    upsampled: np.ndarray
    weights: np.ndarray
    image: np.ndarray
    layer: str
    target: str
    score: float
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OcclusionMap:
    """Scores with a patch occluded at each grid position (Zeiler & Fergus, 2014).

    Grids are (ny, nx); `centers_y`/`centers_x` give each position's patch centre in pixels of
    `image`. `score` is the target's score (the class probability for a class target), `winner`
    the most probable class with its probability.
    """

    score: np.ndarray
    winner: np.ndarray
    winner_probability: np.ndarray
    centers_y: np.ndarray
    centers_x: np.ndarray
    base_score: float
    base_winner: int
    class_names: dict[int, str]
    image: np.ndarray
    target: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def drop(self) -> np.ndarray:
        """How much the score falls when each position is hidden (positive = the region mattered)."""
        return self.base_score - self.score


@dataclass(frozen=True)
class Segmentation:
    """A GrabCut foreground mask seeded by a saliency map (Simonyan et al., 2014, §6).

    `seeds` holds OpenCV's GrabCut codes: 0 sure background, 1 sure foreground, 2 probable
    background, 3 probable foreground.
    """

    mask: np.ndarray
    seeds: np.ndarray
    saliency: np.ndarray
    image: np.ndarray
    foreground_share: float
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Synthesis:
    """A picture made by gradient ascent (`optimize_image` and its recipes).

    image: the best-scoring picture seen (HxWx3 uint8); final_image: the picture after the last
    step; scores: the objective at every step run; metrics: method-specific checks (e.g. the
    class probability of a class model, the relative code distance of an inversion).
    """

    image: np.ndarray
    final_image: np.ndarray
    scores: np.ndarray
    best_step: int
    stopped_early: bool
    seconds: float
    params: dict[str, Any]
    metrics: dict[str, float]


@dataclass(frozen=True)
class TopPatches:
    """Max-activating patches: for each of C channels, the k best images (rows sorted, best first).

    `boxes` are (top, left, bottom, right) of each crop in the model-input picture of that image;
    `positions` the (y, x) of the unit on the layer's grid (-1 for vector layers).
    """

    layer: str
    channels: np.ndarray  # (C,)
    values: np.ndarray  # (C, k) maximal response
    image_indices: np.ndarray  # (C, k) index in the collection
    positions: np.ndarray  # (C, k, 2)
    boxes: np.ndarray  # (C, k, 4)
    patches: np.ndarray  # (C, k, h, w, 3) uint8
    image_names: np.ndarray  # (C, k) str
    image_labels: np.ndarray  # (C, k) str
    channel_variance: np.ndarray  # (C,) variance over images of the channel's maximum
    rf_size: tuple[int, int]
    rf_box: tuple[int, int, int, int]  # the centre unit's field
    rf_gradient: np.ndarray  # (H, W) |gradient| of the centre unit, max 1
    rf_global: bool
    note: str
    layout: str  # map | tokens | vector
    grid: tuple[int, int]
    k: int
    collection: str
    collection_digest: str
    images_seen: int
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class Features:
    """One feature vector per image of a collection, with what is needed to show and compare them."""

    values: np.ndarray  # (N, D) float32 or float16
    labels: np.ndarray  # (N,) index into label_names
    label_names: tuple[str, ...]
    predicted: np.ndarray  # (N,) the model's top-1 class
    class_names: tuple[str, ...]
    indices: np.ndarray  # (N,) positions in the collection
    names: tuple[str, ...]
    thumbnails: np.ndarray  # (N, t, t, 3) uint8: the model's view, small (also the pixel space)
    layer: str  # "pre_logits" or a layer path
    pool: str  # avg | flatten | none
    collection: str
    collection_digest: str
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Projection:
    """2-D coordinates of a feature set and how they were made."""

    coords: np.ndarray  # (N, 2) float32
    method: str  # pca | tsne | umap
    params: dict[str, Any]
    seconds: float


@dataclass(frozen=True)
class Neighbours:
    """The k nearest images to one query in feature or pixel space (query excluded)."""

    query: int  # row in Features
    indices: np.ndarray  # (k,) rows in Features, nearest first
    distances: np.ndarray  # (k,)
    space: str  # features | pixels
    metric: str  # cosine | euclidean


@dataclass(frozen=True)
class Filters:
    """A layer's weights as pictures.

    mode "rgb": `tiles` (N, kh, kw, 3) uint8, one per filter (first layers and ViT patch embeddings);
    mode "kernels": `kernels` (F, I, kh, kw) float, each output filter's slices per input channel.
    """

    layer: str
    mode: str  # rgb | kernels
    tiles: np.ndarray
    kernels: np.ndarray
    weight_shape: tuple[int, ...]
    scale: str  # filter | shared
    shown: tuple[int, int]  # (filters, input channels) shown of the layer's total
    note: str
