"""Robustness transforms: checked against the geometry they promise, on small hand-made pictures."""
from __future__ import annotations

import math

import torch

from viz_core.synthesis import transforms as T


def _blob(height: int, width: int, y: float, x: float, sigma: float = 2.0) -> torch.Tensor:
    rows = torch.arange(height, dtype=torch.float64)[:, None]
    cols = torch.arange(width, dtype=torch.float64)[None, :]
    spot = torch.exp(-((rows - y) ** 2 + (cols - x) ** 2) / (2 * sigma**2))
    return spot.expand(1, 3, height, width).clone()


def _centroid(image: torch.Tensor) -> tuple[float, float]:
    weights = image[0, 0]
    rows = torch.arange(weights.shape[0], dtype=weights.dtype)[:, None]
    cols = torch.arange(weights.shape[1], dtype=weights.dtype)[None, :]
    total = weights.sum()
    return float((weights * rows).sum() / total), float((weights * cols).sum() / total)


def test_affine_without_motion_is_the_identity() -> None:
    image = torch.rand(1, 3, 20, 33, generator=torch.Generator().manual_seed(1))
    out = T.affine(shift=0.0, scale=0.0, degrees=0.0)(image, torch.Generator().manual_seed(0))
    assert torch.allclose(out, image, atol=1e-5)  # float32 grid coordinates


def test_affine_moves_a_point_by_the_drawn_shift_zoom_and_rotation() -> None:
    # a non-square picture: the sampling grid's x and y units differ, the geometry must not
    height, width, y, x = 60, 90, 24.0, 52.0
    image = _blob(height, width, y, x)
    for seed in range(5):
        out = T.affine(shift=6.0, scale=0.15, degrees=20.0)(image, torch.Generator().manual_seed(seed))
        draws = torch.Generator().manual_seed(seed)  # replay the transform's four draws in order
        dx, dy = (-6 + 12 * float(torch.rand((), generator=draws)) for _ in range(2))
        zoom = 0.85 + 0.3 * float(torch.rand((), generator=draws))
        angle = math.radians(-20 + 40 * float(torch.rand((), generator=draws)))
        # output position p maps to input R(angle) p / zoom + shift, about the centre: invert it
        cy, cx = (height - 1) / 2, (width - 1) / 2
        vx, vy = x - cx - dx, y - cy - dy
        ex = zoom * (math.cos(angle) * vx + math.sin(angle) * vy) + cx
        ey = zoom * (-math.sin(angle) * vx + math.cos(angle) * vy) + cy
        got_y, got_x = _centroid(out)
        assert abs(got_y - ey) < 0.3 and abs(got_x - ex) < 0.3, (seed, (got_y, got_x), (ey, ex))


def test_shift_moves_whole_pixels_without_resampling() -> None:
    image = torch.rand(1, 3, 24, 30, generator=torch.Generator().manual_seed(2))
    seen = set()
    for seed in range(12):
        out = T.shift(4)(image, torch.Generator().manual_seed(seed))
        assert out.shape == image.shape
        # the inside of the picture is the input moved by whole pixels: find the offset exactly
        matches = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5) if torch.equal(out[..., 8:16, 8:20], image[..., 8 - dy : 16 - dy, 8 - dx : 20 - dx])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 6  # the shift is random, not one fixed offset


def test_transforms_are_reproducible_from_the_seed() -> None:
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    for make in (lambda: T.affine(4.0, 0.1, 8.0), lambda: T.shift(3)):
        first = make()(image, torch.Generator().manual_seed(7))
        again = make()(image, torch.Generator().manual_seed(7))
        assert torch.equal(first, again)
