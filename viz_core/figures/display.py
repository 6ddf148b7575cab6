"""How values become colours and pictures: the colour scales, ranges and array-to-picture helpers.

Why one module: every figure must agree on what "red", "grey" and "the same scale" mean, so each
of these decisions is made here once and the figure modules only call them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DIVERGING = "RdBu_r"  # signed maps: blue < 0 < red, white at zero
SEQUENTIAL = "Viridis"  # magnitudes: dark = 0
QUALITATIVE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#7f7f7f")


def symmetric_range(maps: Sequence[np.ndarray], quantile: float = 0.995) -> float:
    """One ± limit for signed maps that are compared side by side (robust to single hot pixels)."""
    values = np.concatenate([np.abs(np.asarray(m, dtype=np.float64)).ravel() for m in maps])
    limit = float(np.nanquantile(values, quantile)) if values.size else 1.0
    return limit if limit > 0 else 1.0


def colour_scale(values: np.ndarray, signed: bool, *, limit: float | None = None, quantile: float = 0.995) -> dict[str, Any]:
    """Heatmap keywords for one map: diverging and centred at zero when signed, sequential from 0 otherwise.

    `limit` fixes the top of the scale (e.g. 1 for maps already normalised), so compared panels
    can share it; without it the map's own robust |max| (signed) or max (magnitude) is used.
    """
    values = np.asarray(values, dtype=np.float64)
    if signed:
        top = limit if limit is not None else symmetric_range([values], quantile)
        return dict(colorscale=DIVERGING, zmin=-top, zmax=top, zmid=0)
    low = min(0.0, float(np.nanmin(values))) if values.size else 0.0
    top = limit if limit is not None else (float(np.nanmax(values)) if values.size else 1.0)
    return dict(colorscale=SEQUENTIAL, zmin=low, zmax=top if top > low else low + 1.0)


def normalised(heat: np.ndarray, signed: bool, quantile: float = 0.995) -> np.ndarray:
    """A map divided by its robust maximum |value|: signed maps land in [-1, 1], magnitudes in [0, 1].

    Why: gradients of different rules differ by orders of magnitude; dividing each by its own
    99.5th percentile lets them share one colour scale and still be compared by pattern.
    """
    heat = np.asarray(heat, dtype=np.float64)
    return np.clip(heat / symmetric_range([heat], quantile), -1.0 if signed else 0.0, 1.0)


def amplified(perturbation: np.ndarray, limit: float) -> np.ndarray:
    """A signed HxWx3 change as a uint8 picture: grey is no change, ±`limit` the darkest/brightest."""
    limit = limit if limit > 0 else 1.0
    return (np.clip(0.5 + 0.5 * np.asarray(perturbation, dtype=np.float64) / limit, 0, 1) * 255).round().astype(np.uint8)


def gradient_picture(attribution: np.ndarray) -> np.ndarray:
    """A (C, H, W) signed gradient as an HxWx3 uint8 picture, grey = 0 (as guided-backprop papers show it)."""
    values = np.asarray(attribution, dtype=np.float64)
    if values.shape[0] == 1:
        values = np.repeat(values, 3, axis=0)
    return amplified(np.moveaxis(values, 0, -1), symmetric_range([values]))


def tile_canvas(tiles: np.ndarray, rows: int, columns: int, gap: int, fill: float | int) -> np.ndarray:
    """(R*C, h, w, ...) tiles -> one canvas with `gap` pixels of `fill` between them, row-major."""
    count, height, width = tiles.shape[:3]
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, *tiles.shape[3:]), fill, dtype=tiles.dtype)
    for i in range(count):
        r, c = divmod(i, columns)
        canvas[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = tiles[i]
    return canvas


def top_classes(probs_before: np.ndarray, probs_after: np.ndarray, k: int = 5, extra: Sequence[int] = ()) -> list[int]:
    """The union of the top-k classes before and after (and any `extra`), most probable before first."""
    chosen = list(np.argsort(probs_before)[::-1][:k]) + list(np.argsort(probs_after)[::-1][:k]) + list(extra)
    return [int(c) for c in dict.fromkeys(chosen)]


def eps_text(eps: float, norm: str = "linf") -> str:
    """A budget as people quote it: a per-pixel (L∞) step of whole grey levels as "8/255", else the number."""
    levels = eps * 255
    grey_levels = norm == "linf" and levels >= 1 and abs(levels - round(levels)) < 1e-6
    return f"{levels:.3g}/255" if grey_levels else f"{eps:.3g}"
