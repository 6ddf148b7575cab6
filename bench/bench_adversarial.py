"""Adversarial attacks and neural style: cost per step as a ratio to the model's forward+backward.

Each attack step is one forward and one gradient to the input, so PGD should cost ≈1× per step
(plus a few plain forwards per attack to score the clean, attacked and 8-bit pictures). A style
step adds Gram matrices and, for L-BFGS, the optimiser's own vector work.
"""
from __future__ import annotations

import viz_core as vc

from .common import Row, median_time, ratio_row

TOPIC = "adversarial"
ATTACK_STEPS = 10
STYLE_STEPS = 5


def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    style = vc.sample_image("immunohistochemistry")
    rows = [
        ratio_row(TOPIC, "FGSM (1 step + 3 scoring forwards, whole call)", median_time(lambda: vc.fgsm(m, image, 2 / 255), repeats=3, warmup=1), m),
        ratio_row(
            TOPIC,
            f"PGD L∞ 8/255, {ATTACK_STEPS} steps (per step)",
            median_time(lambda: vc.adversarial(m, image, 9, 8 / 255, steps=ATTACK_STEPS, stop_prob=None), repeats=3, warmup=1) / ATTACK_STEPS,
            m,
            note="includes its share of 4 scoring forwards",
        ),
    ]
    for optimizer in ("lbfgs", "adam"):
        seconds = median_time(lambda: vc.style_transfer(m, image, style, steps=STYLE_STEPS, optimizer=optimizer), repeats=2, warmup=1)
        rows.append(ratio_row(TOPIC, f"style step, {optimizer}, full size (per step)", seconds / STYLE_STEPS, m, note="includes its share of 4 reference forwards"))
    return rows
