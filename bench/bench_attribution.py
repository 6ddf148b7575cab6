"""Attribution methods as ratios to the model's own passes (issue 3's speed targets).

Targets: vanilla/guided/deconvnet <= 1.2x and Grad-CAM <= 1.3x one forward+backward (b=1);
occlusion <= 1.1x the same number of images pushed through the model in batches of 32;
SmoothGrad and integrated gradients <= 1.1x their n forward+backward passes in batches of 8.

Why paired timings: on a shared 2-core machine the load changes from second to second, so each
method is timed alternately with its own denominator and the ratio is of the two medians.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

import viz_core as vc

from .common import Row, batched_forwards, example_batch, paired

TOPIC = "attribution"
TARGET = 281


def _forward_backward(m: vc.LoadedModel, batch: int, times: int = 1) -> Callable[[], None]:
    x = example_batch(m, batch)

    def run() -> None:
        for _ in range(times):
            image = x.clone().requires_grad_(True)
            torch.autograd.grad(m.model(image)[:, TARGET].sum(), [image])

    return run


def run(m: vc.LoadedModel) -> list[Row]:
    x = example_batch(m, 1)
    fb1 = _forward_backward(m, 1)
    cases: list[tuple[str, Callable[[], object], Callable[[], object], str, int]] = []
    for rule in vc.RULES:
        cases.append((f"backprop {rule} (class logit)", lambda rule=rule: vc.backprop(m, x, TARGET, rule=rule), fb1, "forward+backward b=1", 5))
    cases.append(("backprop guided (unit blocks.3 ch 5)", lambda: vc.backprop(m, x, vc.unit("blocks.3", 5), rule="guided"), fb1, "forward+backward b=1", 5))
    cases.append((f"grad_cam ({vc.default_layer(m, 'grad_cam')})", lambda: vc.grad_cam(m, x, TARGET), fb1, "forward+backward b=1", 5))
    cases.append(("smoothgrad n=16, batch 8", lambda: vc.smoothgrad(m, x, TARGET, samples=16, batch_size=8), _forward_backward(m, 8, 2), "2×forward+backward b=8", 3))
    cases.append(("integrated_gradients steps=16, batch 8", lambda: vc.integrated_gradients(m, x, TARGET, steps=16, batch_size=8), _forward_backward(m, 8, 2), "2×forward+backward b=8", 3))
    copies = vc.occlusion(m, x, TARGET, patch=32, stride=16).score.size
    cases.append(
        (f"occlusion patch 32 stride 16 ({copies} copies)", lambda: vc.occlusion(m, x, TARGET, patch=32, stride=16, batch_size=32), batched_forwards(m, copies, 32), f"{copies} images, forward b=32", 3)
    )
    rows = []
    for name, method, denominator, label, repeats in cases:
        ours, theirs = paired(method, denominator, repeats)
        rows.append(Row(TOPIC, name, ours, label, ours / theirs, f"denominator {theirs:.4f} s"))
    return rows
