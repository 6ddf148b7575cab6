"""Occlusion sensitivity (Zeiler & Fergus, 2014): hide one patch at a time and watch the score.

Why batches under inference mode: every occluded copy is independent and needs no gradient, so
copies are built on the fly, a batch at a time, and cost about what the same number of images
pushed through the model costs.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SettingsError
from ..hooks import capture, model_lock
from ..hub import LoadedModel
from ..images import gaussian_blur
from ..results import OcclusionMap, OnStep, report
from ..targets import TargetLike, as_target, target_spec
from .common import ImageInput, as_input, check_int

FILLS = ("grey", "mean", "blur", "black")


def positions(size: int, patch: int, stride: int) -> list[int]:
    """Patch start offsets along one axis; the last patch always touches the far edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def fill_image(m: LoadedModel, x: torch.Tensor, fill: str) -> torch.Tensor:
    """What a hidden patch shows, as a full (1, C, H, W) normalised image to copy patches from."""
    if fill == "grey":
        return m.preprocessing.to_tensor(np.full((1, 1, 3), 0.5, dtype=np.float32)).to(x).expand_as(x).clone()
    if fill == "black":
        low, _ = m.preprocessing.bounds()
        return low.to(x).expand_as(x).clone()
    if fill == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
    if fill == "blur":
        return gaussian_blur(x, max(x.shape[-1], x.shape[-2]) / 28)
    raise SettingsError(f"Unknown fill '{fill}'.", f"Use one of: {', '.join(FILLS)}.")


def occlusion(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    patch: int = 32,
    stride: int = 8,
    fill: str = "grey",
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> OcclusionMap:
    """Score of `target` with a `patch`-pixel square hidden at every `stride`-th position.

    As everywhere, an int target is that class's logit; Zeiler & Fergus plot the probability,
    `class_prob(k)` (the dashboard's choice). A unit target maps where a neuron's evidence sits.
    `fill` is what the square shows: grey (pixel 0.5), the image's mean colour, a blurred copy
    of the image, or black.
    """
    goal = as_target(target, m)
    x = as_input(m, image)
    height, width = x.shape[2], x.shape[3]
    if isinstance(patch, (int, float)) and not isinstance(patch, bool) and patch > min(height, width):
        raise SettingsError(
            f"The {patch}-pixel patch is larger than the {height}×{width} image the model sees.",
            f"Pick a patch of at most {min(height, width)} pixels.",
        )
    patch = check_int(patch, "The patch size", 1, min(height, width))
    stride = check_int(stride, "The stride", 1, patch)
    batch = check_int(batch_size, "The batch size", 1, 512)
    filler = fill_image(m, x, fill)
    ys, xs = positions(height, patch, stride), positions(width, patch, stride)
    grid = [(y, x0) for y in ys for x0 in xs]
    score = np.empty(len(grid), dtype=np.float32)
    winner = np.full(len(grid), -1, dtype=np.int64)  # stays -1 without a classifier head: no class wins
    winner_p = np.full(len(grid), np.nan, dtype=np.float32)
    classified = m.num_classes > 0  # a backbone without a classifier head has no winning class
    with torch.inference_mode(), model_lock(m.model), capture(m.model, list(goal.layers())) as activations:
        logits = m.model(x)
        base_winner = int(logits[0].argmax()) if classified else -1
        base_score = float(goal.score(logits, activations)[0])
        for start in range(0, len(grid), batch):
            chunk = grid[start : start + batch]
            copies = x.repeat(len(chunk), 1, 1, 1)
            for i, (y, x0) in enumerate(chunk):
                copies[i, :, y : y + patch, x0 : x0 + patch] = filler[0, :, y : y + patch, x0 : x0 + patch]
            logits = m.model(copies)
            score[start : start + len(chunk)] = goal.score(logits, activations).float().cpu().numpy()
            if classified:
                top = torch.softmax(logits.float(), dim=-1).max(dim=-1)
                winner[start : start + len(chunk)] = top.indices.cpu().numpy()
                winner_p[start : start + len(chunk)] = top.values.cpu().numpy()
            done = start + len(chunk)
            report(on_step, done / len(grid), f"{done}/{len(grid)} occluded copies", step=done)
    shape = (len(ys), len(xs))
    found = ({int(k) for k in np.unique(winner)} | {base_winner}) if classified else set()
    return OcclusionMap(
        score=score.reshape(shape),
        winner=winner.reshape(shape),
        winner_probability=winner_p.reshape(shape),
        centers_y=np.asarray(ys, dtype=np.float32) + (patch - 1) / 2,
        centers_x=np.asarray(xs, dtype=np.float32) + (patch - 1) / 2,
        base_score=base_score,
        base_winner=base_winner,
        class_names={k: m.class_names[k] for k in sorted(found)},
        image=m.deprocess(x),
        target=goal.describe(m),
        params={"method": "occlusion", "patch": patch, "stride": stride, "fill": fill, "target": target_spec(goal)},
        notes=() if classified else (f"{m.name} has no classifier head, so no class wins at any position (winner -1).",),
    )
