"""Weakly supervised segmentation from a saliency map with GrabCut (Simonyan et al., 2014, §6).

Why GrabCut: saliency marks only the most discriminative pixels; GrabCut grows those seeds into
an object mask by fitting colour models to the seeds and cutting along image edges
(Rother et al., 2004).
"""
from __future__ import annotations

import numpy as np

from ..errors import ConvlensError, ImageError, SettingsError
from ..results import Segmentation
from .common import check_int


def _as_uint8(image01: np.ndarray) -> np.ndarray:
    picture = np.asarray(image01)
    if picture.ndim != 3 or picture.shape[2] != 3:
        raise ImageError(f"GrabCut needs an HxWx3 colour image; got shape {picture.shape}.")
    if picture.dtype == np.uint8:
        return np.ascontiguousarray(picture)
    if not np.isfinite(picture).all():
        raise ImageError("The image contains NaN or infinite values.")
    return np.ascontiguousarray((np.clip(picture, 0, 1) * 255).round().astype(np.uint8))


def grabcut_from_saliency(
    image01: np.ndarray,
    saliency: np.ndarray,
    *,
    foreground_quantile: float = 0.95,
    background_quantile: float = 0.30,
    iterations: int = 5,
    smooth: float = 2.0,
) -> Segmentation:
    """A foreground mask grown by GrabCut from the most and least salient pixels.

    Seeds as in the paper: pixels above the `foreground_quantile` of (lightly blurred) saliency
    are sure foreground, below `background_quantile` sure background; the rest start as
    probable foreground above the median and probable background below it. `image01` is HxWx3
    in [0, 1] (or uint8); `saliency` is HxW, e.g. `Attribution.saliency`.
    """
    import cv2

    picture = _as_uint8(image01)
    heat = np.asarray(saliency, dtype=np.float32)
    if heat.shape != picture.shape[:2]:
        raise ImageError(f"The saliency map is {heat.shape}; the image is {picture.shape[:2]}.", "Use a saliency map of the same image.")
    if not np.isfinite(heat).all():
        raise ImageError("The saliency map contains NaN or infinite values.")
    if not 0 < background_quantile < foreground_quantile < 1:
        raise SettingsError(
            f"Quantiles must satisfy 0 < background ({background_quantile}) < foreground ({foreground_quantile}) < 1.",
            "The defaults are 0.30 and 0.95, as in Simonyan et al.",
        )
    iterations = check_int(iterations, "The number of GrabCut iterations", 1, 50)
    if smooth > 0:
        heat = cv2.GaussianBlur(heat, (0, 0), float(smooth))
    high, middle, low = np.quantile(heat, [foreground_quantile, 0.5, background_quantile])
    seeds = np.where(heat > middle, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    seeds[heat <= low] = cv2.GC_BGD
    seeds[heat >= high] = cv2.GC_FGD
    if high <= low or not (seeds == cv2.GC_FGD).any() or not (seeds == cv2.GC_BGD).any():
        raise ConvlensError("The saliency map is flat, so it gives no foreground or background seeds.", "Use another target or method.")
    mask = seeds.copy()
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(picture, mask, None, background_model, foreground_model, iterations, cv2.GC_INIT_WITH_MASK)
    foreground = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return Segmentation(
        mask=foreground,
        seeds=seeds,
        saliency=np.asarray(saliency, dtype=np.float32),
        image=picture,
        foreground_share=float(foreground.mean()),
        params={
            "method": "grabcut",
            "foreground_quantile": foreground_quantile,
            "background_quantile": background_quantile,
            "iterations": iterations,
            "smooth": smooth,
        },
    )
