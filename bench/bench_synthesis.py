"""Synthesis: seconds per optimisation step of each method, as a ratio to one forward+backward.

Why per step: every method here is N steps of the same loop, so the per-step cost against the
model's own forward + gradient to the input says how much the engine adds (target ≤ 1.2×;
Lucent measures ≈ 1.9–2.35× on this model). Steps/s are in the note.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable

import viz_core as vc
from viz_core.synthesis import class_model, deepdream, invert, neuron, optimize_image, pixels
from viz_core.synthesis import objectives as O

from .common import Row, forward_backward_time

STEPS = 6


def _per_step(run: Callable[[int], vc.Synthesis], steps: int = STEPS, repeats: int = 3) -> float:
    """Median seconds of one step, from the engine's own loop time (excludes each recipe's final checks)."""
    run(2)  # warm-up: kernels, allocator
    return statistics.median(run(steps).seconds / steps for _ in range(repeats))


def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    size = tuple(m.input_size[1:])
    layer = "blocks.4" if any(info.path == "blocks.4" for info in m.layers()) else [i.path for i in m.layers() if i.layout == "map"][-1]
    methods: dict[str, Callable[[int], vc.Synthesis]] = {
        "engine: pixels, no transforms": lambda n: optimize_image(m, O.class_logit(1), pixels(size), steps=n, preview_every=0),
        "class model (Fourier + transforms)": lambda n: class_model(m, 130, steps=n),
        "neuron (Fourier + transforms)": lambda n: neuron(m, layer, 0, steps=n),
        "class model (pixels + Yosinski priors)": lambda n: class_model(m, 130, steps=n, param="pixels", l2_decay=0.01, blur_every=4, clip_norm=10, clip_contribution=10),
        "inversion, penultimate code": lambda n: invert(m, image, steps=n),
        "DeepDream, 1 octave": lambda n: deepdream(m, image, layer, octaves=1, steps=n),
    }
    rows = []
    for name, method in methods.items():
        # the denominator is measured right before and after, so a busy machine shifts both alike
        before = forward_backward_time(m, 1, repeats=5)
        seconds = _per_step(method)
        base = (before + forward_backward_time(m, 1, repeats=5)) / 2
        rows.append(Row("synthesis", name, seconds, "forward+backward b=1 (interleaved)", seconds / base, f"{1 / seconds:.1f} steps/s; f+b {base * 1e3:.0f} ms"))
    return rows
