"""Synthesis: seconds per optimisation step of each method, as a ratio to one forward+backward.

Why per step: every method here is N steps of the same loop, so the per-step cost against the
model's own forward + gradient to the input says how much the engine adds (target ≤ 1.2×;
Lucent measures ≈ 1.9–2.35× on this model). Steps/s are in the note.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

import viz_core as vc
from viz_core.synthesis import class_model, deepdream, invert, neuron, optimize_image, pixels
from viz_core.synthesis import objectives as O
from viz_core.results import OnStep

from .common import Row, example_batch

STEPS = 8
ROUNDS = 8


def _step_times(run: Callable[[int, OnStep], vc.Synthesis], steps: int = STEPS) -> list[float]:
    """Seconds between consecutive `on_step` calls: whole steady-state steps (the first, which
    also sets the optimiser up, is left out)."""
    stamps: list[float] = []
    run(steps, lambda info: stamps.append(time.perf_counter()))
    return [after - before for before, after in zip(stamps, stamps[1:])]


def _forward_backward_samples(m: vc.LoadedModel, count: int) -> list[float]:
    x = example_batch(m, 1)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        image = x.clone().requires_grad_(True)
        torch.autograd.grad(m.model(image).max(dim=1).values.sum(), [image])
        samples.append(time.perf_counter() - start)
    return samples


def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    size = tuple(m.input_size[1:])
    layer = "blocks.4" if any(info.path == "blocks.4" for info in m.layers()) else [i.path for i in m.layers() if i.layout == "map"][-1]
    methods: dict[str, Callable[[int, OnStep], vc.Synthesis]] = {
        "engine: pixels, no transforms": lambda n, cb: optimize_image(m, O.class_logit(1), pixels(size), steps=n, preview_every=0, on_step=cb),
        "class model (Fourier + transforms)": lambda n, cb: class_model(m, 130, steps=n, on_step=cb),
        "neuron (Fourier + transforms)": lambda n, cb: neuron(m, layer, 0, steps=n, on_step=cb),
        "class model (pixels + Yosinski priors)": lambda n, cb: class_model(m, 130, steps=n, param="pixels", l2_decay=0.01, blur_every=4, clip_norm=10, clip_contribution=10, on_step=cb),
        "inversion, penultimate code": lambda n, cb: invert(m, image, steps=n, on_step=cb),
        "DeepDream, 1 octave": lambda n, cb: deepdream(m, image, layer, octaves=1, steps=n, on_step=cb),
    }
    _forward_backward_samples(m, 3)  # warm-up: kernels, allocator
    rows = []
    for name, method in methods.items():
        _step_times(method, 3)  # warm-up
        # rounds alternate the denominator and the method, so a busy moment shifts both alike
        steps: list[float] = []
        base: list[float] = []
        for _ in range(ROUNDS):
            base += _forward_backward_samples(m, 3)
            steps += _step_times(method)
        seconds, denominator = statistics.median(steps), statistics.median(base)
        rows.append(Row("synthesis", name, seconds, "forward+backward b=1 (interleaved)", seconds / denominator, f"{1 / seconds:.1f} steps/s; f+b {denominator * 1e3:.0f} ms"))
    return rows
