"""Synthesis: seconds per optimisation step of each method, as a ratio to one forward+backward.

Why per step: every method here is N steps of the same loop, so the per-step cost against the
model's own forward + gradient to the input says how much the engine adds (target ≤ 1.2×;
Lucent measures ≈ 1.9–2.35× on this model). Steps/s are in the note. These are batch-1 runs;
the default `Ascent` (MACO, a batch of 4 crops) is measured against the forward+backward of its
own batch in bench_pictures.py.
"""
from __future__ import annotations

from collections.abc import Callable

import viz_core as vc
from viz_core.synthesis import optimize_image, pixels
from viz_core.synthesis.recipes import class_model, deepdream, invert, neuron
from viz_core.synthesis import objectives as O
from viz_core.results import OnStep

from .common import Row, per_step_ratio

def run(m: vc.LoadedModel) -> list[Row]:
    image = vc.sample_image("chelsea (cat)")
    size = tuple(m.input_size[1:])
    layer = "blocks.4" if any(info.path == "blocks.4" for info in m.layers()) else [i.path for i in m.layers() if i.layout == "map"][-1]
    methods: dict[str, Callable[[int, OnStep], vc.Synthesis]] = {
        "engine: pixels, no transforms": lambda n, cb: optimize_image(m, O.target(vc.class_logit(1)), pixels(size), steps=n, preview_every=0, on_step=cb),
        "class model (Ascent.lucid(): Fourier + transforms)": lambda n, cb: class_model(m, 130, vc.Ascent.lucid(), steps=n, on_step=cb),
        "neuron (Ascent.lucid(): Fourier + transforms)": lambda n, cb: neuron(m, vc.unit(layer, 0), vc.Ascent.lucid(), steps=n, on_step=cb),
        "class model (pixels + Yosinski priors)": lambda n, cb: class_model(m, 130, vc.Ascent.pixels(), steps=n, l2_decay=0.01, blur_every=4, clip_norm=10, clip_contribution=10, on_step=cb),
        "inversion, penultimate code": lambda n, cb: invert(m, image, steps=n, on_step=cb),
        "DeepDream, 1 octave": lambda n, cb: deepdream(m, image, layer, octaves=1, steps=n, on_step=cb),
    }
    rows = []
    for name, method in methods.items():
        seconds, denominator = per_step_ratio(m, method)
        rows.append(Row("synthesis", name, seconds, "forward+backward b=1 (interleaved)", seconds / denominator, f"{1 / seconds:.1f} steps/s; f+b {denominator * 1e3:.0f} ms"))
    return rows
