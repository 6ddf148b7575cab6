"""GrabCut seeded by saliency recovers a known object."""
from __future__ import annotations

import numpy as np
import pytest

import viz_core as vc


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:96, :96]
    disc = (yy - 40) ** 2 + (xx - 52) ** 2 < 22**2
    image = np.where(disc[..., None], [0.85, 0.2, 0.15], [0.2, 0.45, 0.8]) + rng.normal(0, 0.04, (96, 96, 3))
    saliency = np.where(disc, 1.0, 0.1) * rng.uniform(0, 1, (96, 96))  # sparse, noisy, like a gradient
    return np.clip(image, 0, 1), saliency, disc


def test_grabcut_grows_saliency_seeds_into_the_object() -> None:
    image, saliency, disc = _scene()
    result = vc.grabcut_from_saliency(image, saliency)
    iou = (result.mask & disc).sum() / (result.mask | disc).sum()
    assert iou > 0.9
    assert result.foreground_share == pytest.approx(result.mask.mean())
    assert set(np.unique(result.seeds)) <= {0, 1, 2, 3} and (result.seeds == 1).any() and (result.seeds == 0).any()
    assert result.image.dtype == np.uint8


def test_bad_inputs() -> None:
    image, saliency, _ = _scene()
    with pytest.raises(vc.ImageError, match="saliency map is"):
        vc.grabcut_from_saliency(image, saliency[:50])
    with pytest.raises(vc.ConvlensError, match="flat"):
        vc.grabcut_from_saliency(image, np.zeros((96, 96)))
    with pytest.raises(vc.ConvlensError, match="Quantiles"):
        vc.grabcut_from_saliency(image, saliency, foreground_quantile=0.2)
