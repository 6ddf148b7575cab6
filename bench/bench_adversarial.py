"""Adversarial attacks and neural style: cost per step as a ratio to the model's forward+backward.

Each attack or style step is one forward and one gradient to the input at the model's input size
(224 px here), so it should cost ≈1×. Steps are timed in their steady state from `on_step`,
alternating with the denominator, as in the synthesis topic.
"""
from __future__ import annotations

import viz_core as vc

from .common import Row, forward_backward_samples, paired, per_step_ratio

TOPIC = "adversarial"


def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    style = vc.sample_image("immunohistochemistry")
    fgsm_seconds, base = paired(lambda: vc.fgsm(m, image, eps=2 / 255), lambda: forward_backward_samples(m, 1), repeats=7)
    rows = [Row(TOPIC, "FGSM, whole call (1 step + 3 scoring forwards)", fgsm_seconds, "forward+backward b=1 (interleaved)", fgsm_seconds / base)]
    methods = {
        "PGD L∞ 8/255 targeted, per step": lambda n, cb: vc.adversarial(m, image, 9, eps=8 / 255, steps=n, stop_prob=None, on_step=cb),
        "PGD L2 1.0 targeted, per step": lambda n, cb: vc.adversarial(m, image, 9, eps=1.0, norm="l2", steps=n, stop_prob=None, on_step=cb),
        "style step, L-BFGS, 224 px": lambda n, cb: vc.style_transfer(m, image, style, steps=n, optimizer="lbfgs", on_step=cb),
        "style step, Adam, 224 px": lambda n, cb: vc.style_transfer(m, image, style, steps=n, optimizer="adam", on_step=cb),
    }
    for name, method in methods.items():
        seconds, denominator = per_step_ratio(m, method, rounds=5)
        rows.append(Row(TOPIC, name, seconds, "forward+backward b=1 (interleaved)", seconds / denominator, f"{1 / seconds:.1f} steps/s; f+b {denominator * 1e3:.0f} ms"))
    return rows
