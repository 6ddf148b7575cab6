"""Adversarial attacks and neural style: cost per step as a ratio to the model's forward+backward.

Each attack or style step is one forward and one gradient to the input, so it should cost ≈1×.
Per-step cost is measured as the difference between a long and a short run, which removes the
fixed cost of a call (scoring forwards, reference activations, layer catalogue).
"""
from __future__ import annotations

from collections.abc import Callable

import viz_core as vc

from .common import Row, median_time, ratio_row

TOPIC = "adversarial"
SHORT, LONG = 2, 8


def per_step(run: Callable[[int], object]) -> float:
    """Seconds per step: (median of a LONG-step run − median of a SHORT-step run) / (LONG − SHORT)."""
    long_run = median_time(lambda: run(LONG), repeats=3, warmup=1)
    short_run = median_time(lambda: run(SHORT), repeats=3, warmup=1)
    return max(long_run - short_run, 0.0) / (LONG - SHORT)


def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    style = vc.sample_image("immunohistochemistry")
    rows = [
        ratio_row(TOPIC, "FGSM, whole call (1 step + 3 scoring forwards)", median_time(lambda: vc.fgsm(m, image, 2 / 255), repeats=5, warmup=1), m),
        ratio_row(TOPIC, "PGD L∞ 8/255 targeted, per step", per_step(lambda n: vc.adversarial(m, image, 9, 8 / 255, steps=n, stop_prob=None)), m),
        ratio_row(TOPIC, "PGD L2 1.0 targeted, per step", per_step(lambda n: vc.adversarial(m, image, 9, 1.0, "l2", steps=n, stop_prob=None)), m),
    ]
    for optimizer in ("lbfgs", "adam"):
        seconds = per_step(lambda n: vc.style_transfer(m, image, style, steps=n, optimizer=optimizer))
        rows.append(ratio_row(TOPIC, f"style step, {optimizer}, 224 px", seconds, m))
    return rows
