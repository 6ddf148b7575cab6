"""Attribution methods as ratios to the model's own passes (issue 3's speed targets).

Targets: vanilla/guided/deconvnet <= 1.2x and Grad-CAM <= 1.3x one forward+backward (b=1);
occlusion <= 1.1x the same number of images pushed through the model in batches of 32;
SmoothGrad and integrated gradients <= 1.1x their n forward+backward passes in batches of 8.
"""
from __future__ import annotations

import viz_core as vc

from .common import Row, example_batch, median_time, ratio_row

TOPIC = "attribution"


def run(m: vc.LoadedModel) -> list[Row]:
    x = example_batch(m, 1)
    target = 281
    rows = []
    for rule in vc.attribution.RULES:
        seconds = median_time(lambda rule=rule: vc.backprop(m, x, target, rule))
        rows.append(ratio_row(TOPIC, f"backprop {rule}", seconds, m, 1, "forward_backward", note="target: class logit"))
    seconds = median_time(lambda: vc.backprop(m, x, vc.unit("blocks.3", 5), "guided"))
    rows.append(ratio_row(TOPIC, "backprop guided, unit blocks.3", seconds, m, 1, "forward_backward"))
    seconds = median_time(lambda: vc.grad_cam(m, x, target))
    rows.append(ratio_row(TOPIC, "grad_cam", seconds, m, 1, "forward_backward", note=f"layer {vc.attribution.default_layer(m)}"))
    samples = 16
    seconds = median_time(lambda: vc.smoothgrad(m, x, target, samples=samples, batch=8), repeats=3, warmup=1)
    rows.append(ratio_row(TOPIC, f"smoothgrad n={samples}", seconds, m, 8, "forward_backward", times=samples // 8))
    seconds = median_time(lambda: vc.integrated_gradients(m, x, target, steps=samples, batch=8), repeats=3, warmup=1)
    rows.append(ratio_row(TOPIC, f"integrated_gradients steps={samples}", seconds, m, 8, "forward_backward", times=samples // 8))
    result = vc.occlusion(m, x, target, patch=32, stride=16)
    copies = result.score.size
    seconds = median_time(lambda: vc.occlusion(m, x, target, patch=32, stride=16, batch=32), repeats=3, warmup=1)
    rows.append(ratio_row(TOPIC, f"occlusion patch 32 stride 16 ({copies} copies)", seconds, m, 32, "forward", times=round(copies / 32, 2)))
    return rows
