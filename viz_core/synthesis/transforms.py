"""Random transforms applied before every forward, and in-place regularisers applied between steps.

Why transforms: a picture that only works at one exact pixel offset is an adversarial pattern,
not a feature; asking the objective to hold under small jitter, scaling and rotation removes
most high-frequency noise ("transformation robustness", Olah et al. 2017). Every random draw
comes from the run's `torch.Generator`, so a seed reproduces a picture.

Why in-place regularisers: Yosinski et al. 2015 ("Understanding Neural Networks Through Deep
Visualization") regularise *between* gradient steps: decay the pixels, blur every few steps, and
zero pixels of small norm or small contribution. They act on a pixel parameterisation only.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..images import gaussian_blur

# transform(image 1x3xHxW in [0, 1], generator) -> transformed image (any size; the engine
# resizes to the model's input size afterwards). A batch of B copies gets B independent draws.
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
# regulariser(pixels 1x3xHxW, gradient of the score w.r.t. the pixels, step), in place, no grad
ImageStep = Callable[[torch.Tensor, torch.Tensor, int], None]


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _integer(generator: torch.Generator, low: int, high: int) -> int:
    """An integer in [low, high] inclusive."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def shift(pixels: int = 8) -> Transform:
    """Shift by a random whole number of pixels in [-pixels, pixels] each way, same size, borders reflected.

    Why not crop-and-resize: a whole-pixel shift needs no resampling, so the picture stays sharp
    and the model sees it at its own size with no interpolation to differentiate through.
    """

    def apply(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if pixels <= 0:
            return image
        height, width = image.shape[-2:]
        reach = min(pixels, height - 1, width - 1)
        padded = F.pad(image, (reach,) * 4, mode="reflect")
        moved = []
        for i in range(image.shape[0]):  # each picture of a batch its own shift
            dy, dx = _integer(generator, 0, 2 * reach), _integer(generator, 0, 2 * reach)
            moved.append(padded[i : i + 1, :, dy : dy + height, dx : dx + width])
        return moved[0] if len(moved) == 1 else torch.cat(moved)

    return apply


def _similarity(generator: torch.Generator, height: int, width: int, shift: float, scale: float, degrees: float) -> list[list[float]]:
    """One random similarity (shift, zoom, rotation about the centre) as a grid_sample theta row pair."""
    dx, dy = _uniform(generator, -shift, shift), _uniform(generator, -shift, shift)
    zoom = _uniform(generator, 1.0 - scale, 1.0 + scale)
    angle = math.radians(_uniform(generator, -degrees, degrees))
    cos, sin = math.cos(angle) / zoom, math.sin(angle) / zoom
    # output pixel grid -> input pixel positions (rotation and zoom about the centre, then the
    # shift), written in grid_sample's [-1, 1] coordinates, which stretch x and y differently
    return [[cos, -sin * height / width, 2.0 * dx / width], [sin * width / height, cos, 2.0 * dy / height]]


def _resample(image: torch.Tensor, thetas: list[list[list[float]]], size: tuple[int, int]) -> torch.Tensor:
    theta = torch.tensor(thetas, dtype=image.dtype, device=image.device)
    grid = F.affine_grid(theta, [image.shape[0], image.shape[1], *size], align_corners=False)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def affine(shift: float = 8.0, scale: float = 0.1, degrees: float = 5.0) -> Transform:
    """Shift, zoom and rotate in ONE bilinear resampling, at the input's size, borders reflected.

    Draws a shift uniformly in [-shift, shift] pixels, a zoom in [1 - scale, 1 + scale] and an
    angle in [-degrees, degrees], independently for each picture of a batch. Why one
    resampling: a chain of pad, crop, resize and rotate resamples the picture three times forward
    and backward; composing the same similarity transform into one sampling grid costs a single
    `grid_sample` and blurs the picture once.
    """

    def apply(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        height, width = image.shape[-2:]
        thetas = [_similarity(generator, height, width, shift, scale, degrees) for _ in range(image.shape[0])]
        return _resample(image, thetas, (height, width))

    return apply


def crops(size: tuple[int, int], area: tuple[float, float] = (0.35, 1.0), degrees: float = 0.0, noise: float = 0.0) -> Transform:
    """A random square-ish crop of each picture of the batch, resampled to `size` (one grid_sample).

    Each crop covers a uniformly drawn fraction of the picture's *side* in [sqrt(area[0]),
    sqrt(area[1])], sits uniformly inside it, is rotated by up to ±`degrees` (without rotation the
    box is cut on whole pixels and resized, which is cheaper) and gets Gaussian pixel noise of standard deviation `noise`. Why: a class model must hold for every view of it,
    close-ups and wholes, as in the batched random crops of MACO (Fel et al. 2023); features that
    only one exact framing excites are the network's quirks, and they do not transfer.
    """
    low, high = math.sqrt(max(area[0], 1e-4)), math.sqrt(min(area[1], 1.0))
    if not 0 < low <= high <= 1:
        raise ValueError(f"crop area must satisfy 0 < low <= high <= 1 (got {area})")

    def apply(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        height, width = image.shape[-2:]
        thetas, views = [], []
        for i in range(image.shape[0]):
            side = _uniform(generator, low, high)
            cx, cy = _uniform(generator, side - 1.0, 1.0 - side), _uniform(generator, side - 1.0, 1.0 - side)
            if degrees > 0:
                angle = math.radians(_uniform(generator, -degrees, degrees))
                cos, sin = math.cos(angle) * side, math.sin(angle) * side
                thetas.append([[cos, -sin, cx], [sin, cos, cy]])
                continue
            # no rotation: slice the box (whole pixels) and resize it, ~3x cheaper than grid_sample's backward
            box_h, box_w = max(1, round(side * height)), max(1, round(side * width))
            top = min(max(0, round((cy + 1 - side) / 2 * height)), height - box_h)
            left = min(max(0, round((cx + 1 - side) / 2 * width)), width - box_w)
            crop = image[i : i + 1, :, top : top + box_h, left : left + box_w]
            views.append(crop if (box_h, box_w) == tuple(size) else F.interpolate(crop, size=size, mode="bilinear", align_corners=False))
        out = _resample(image, thetas, size) if thetas else torch.cat(views)
        if noise > 0:
            out = out + noise * torch.randn(out.shape, generator=generator).to(out)
        return out

    return apply


# --- in-place regularisers between steps (Yosinski et al. 2015) ---------------------------------


def _lowest(values: torch.Tensor, percentile: float) -> torch.Tensor:
    """Mask of the values in the lowest `percentile` % (kthvalue: linear time, unlike a full sort)."""
    flat = values.flatten()
    k = int(flat.numel() * percentile / 100.0)
    if k < 1:
        return torch.zeros_like(values, dtype=torch.bool)
    return values <= flat.kthvalue(k).values


def decay(rate: float = 0.01) -> ImageStep:
    """Pull pixels toward grey by `rate` each step: the L2 prior of Simonyan et al. as a step."""

    def apply(pixels: torch.Tensor, grad: torch.Tensor, step: int) -> None:
        pixels.sub_(rate * (pixels - 0.5))

    return apply


def blur_every(every: int = 4, sigma: float = 0.5) -> ImageStep:
    """Blur the picture every `every` steps: removes the high frequencies gradient ascent loves."""

    def apply(pixels: torch.Tensor, grad: torch.Tensor, step: int) -> None:
        if every > 0 and sigma > 0 and (step + 1) % every == 0:
            pixels.copy_(gaussian_blur(pixels, sigma))

    return apply


def clip_norm(percentile: float = 10.0) -> ImageStep:
    """Set pixels whose colour vector (from grey) is in the lowest `percentile` % to grey."""

    def apply(pixels: torch.Tensor, grad: torch.Tensor, step: int) -> None:
        norms = (pixels - 0.5).pow(2).sum(dim=1, keepdim=True)  # squared: same order, cheaper
        pixels.masked_fill_(_lowest(norms, percentile).expand_as(pixels), 0.5)

    return apply


def clip_contribution(percentile: float = 10.0) -> ImageStep:
    """Set pixels whose contribution |x · grad| (summed over colours) is in the lowest `percentile` % to grey."""

    def apply(pixels: torch.Tensor, grad: torch.Tensor, step: int) -> None:
        contribution = ((pixels - 0.5) * grad).sum(dim=1, keepdim=True).abs()
        pixels.masked_fill_(_lowest(contribution, percentile).expand_as(pixels), 0.5)

    return apply
