"""Trust checks as ratios to the model's own passes (issue 12's speed target).

Target: one method's deletion curve (its pictures built from the rank map, scored under
inference mode in batches of 32) costs <= 1.1x pushing the same number of images through the
model in batches of 32. Also timed: the whole per-image check (every map, both curves of every
method and the random order) and the quick randomisation check the Saliency page runs.

Why paired timings: the shared 2-core machine's load changes from second to second, so each
case alternates with its own denominator and the ratio is of the two medians.
"""
from __future__ import annotations

import viz_core as vc

from .common import Row, batched_forwards, example_batch, paired

TOPIC = "trust"
TARGET = 281


def run(m: vc.LoadedModel) -> list[Row]:
    x = example_batch(m, 1)
    saliency = {"saliency": vc.backprop(m, x, TARGET).saliency}
    rows = []
    for step in (0.05, 0.01):
        pictures = int(round(1 / step)) + 1

        def curve(step: float = step) -> object:
            return vc.deletion_insertion(m, x, TARGET, saliency, step=step, modes=("deletion",), random_order=False, batch_size=32)

        ours, theirs = paired(curve, batched_forwards(m, pictures, 32), repeats=5)
        rows.append(Row(TOPIC, f"deletion curve, one method, step {step} ({pictures} pictures)", ours, f"{pictures} images, forward b=32", ours / theirs, f"denominator {theirs:.4f} s"))
    full = vc.deletion_insertion(m, x, TARGET, saliency, step=0.05)
    pictures = 2 * (2 + 2 * (len(full.fractions) - 2))
    ours, theirs = paired(lambda: vc.deletion_insertion(m, x, TARGET, saliency, step=0.05), batched_forwards(m, pictures, 32), repeats=3)
    rows.append(Row(TOPIC, f"deletion + insertion, one method + random ({pictures} pictures)", ours, f"{pictures} images, forward b=32", ours / theirs, f"denominator {theirs:.4f} s"))
    quick = ("vanilla", "guided", "deconvnet", "saliency")
    ours, theirs = paired(
        lambda: vc.model_randomisation(m, x, TARGET, mode="full", methods=quick),
        lambda: [vc.backprop(m, x, TARGET, rule=rule) for rule in ("vanilla", "guided", "deconvnet") for _ in range(2)],
        repeats=3,
    )
    rows.append(Row(TOPIC, "quick randomisation check (3 rules, private copy)", ours, "6 backprops b=1 (3 rules, twice)", ours / theirs, f"denominator {theirs:.4f} s"))
    return rows
