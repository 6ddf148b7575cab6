"""Timing helpers and the denominators every method reports against.

Why ratios: absolute seconds depend on the laptop; the cost of a method relative to the model's
own forward (+ backward to the input), measured side by side in the same process and allocator
state, does not. Each topic module `bench/bench_<topic>.py` defines `run(m) -> list[Row]`.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch

import viz_core as vc


@dataclass(frozen=True)
class Row:
    """One measured method: median seconds and its ratio to the named denominator."""

    topic: str
    method: str
    seconds: float
    denominator: str
    ratio: float
    note: str = ""


def median_time(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    """Median wall time of `fn` after warm-up runs (first calls allocate and pick kernels)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def example_batch(m: vc.LoadedModel, batch: int) -> torch.Tensor:
    x = m.preprocess(vc.sample_image("chelsea (cat)"))
    return x.repeat(batch, 1, 1, 1)


def batched_forwards(m: vc.LoadedModel, copies: int, batch: int) -> Callable[[], None]:
    """`copies` forwards of one example in batches of `batch`: the denominator of batched methods."""
    x = example_batch(m, 1)

    def run() -> None:
        with torch.inference_mode():
            for start in range(0, copies, batch):
                m.model(x.repeat(min(batch, copies - start), 1, 1, 1))

    return run


def forward_time(m: vc.LoadedModel, batch: int = 1, repeats: int = 7) -> float:
    """Median time of a plain inference forward at this batch size."""
    x = example_batch(m, batch)

    def run() -> None:
        with torch.inference_mode():
            m.model(x)

    return median_time(run, repeats)


def forward_backward_time(m: vc.LoadedModel, batch: int = 1, repeats: int = 7) -> float:
    """Median time of a forward plus the gradient of the top logit w.r.t. the input (weights frozen)."""
    x = example_batch(m, batch)

    def run() -> None:
        image = x.clone().requires_grad_(True)
        logits = m.model(image)
        torch.autograd.grad(logits.max(dim=1).values.sum(), [image])

    return median_time(run, repeats)


@lru_cache(maxsize=8)
def baseline(model_key: str, batch: int) -> dict[str, float]:
    """Forward and forward+backward medians for the cached model at this batch size."""
    m = _models[model_key]
    return {"forward": forward_time(m, batch), "forward_backward": forward_backward_time(m, batch)}


_models: dict[str, vc.LoadedModel] = {}


def register(m: vc.LoadedModel) -> str:
    """Remember the model under a key so `baseline` can cache its denominators."""
    key = f"{m.name}|{m.weights}"
    _models[key] = m
    return key


def ratio_row(topic: str, method: str, seconds: float, m: vc.LoadedModel, batch: int = 1, kind: str = "forward_backward", times: int = 1, note: str = "") -> Row:
    """A row whose denominator is `times` × the model's forward or forward+backward at `batch`."""
    base = baseline(register(m), batch)[kind] * times
    label = f"{times}×" if times != 1 else ""
    return Row(topic, method, seconds, f"{label}{kind.replace('_', '+')} b={batch}", seconds / base, note)


def paired(method: Callable[[], object], denominator: Callable[[], object], repeats: int = 5) -> tuple[float, float]:
    """Median seconds of `method` and of `denominator`, timed alternately after one warm-up each.

    Why alternate: on a shared 2-core machine the load changes from second to second; timing the
    two in turn lets a busy moment shift both alike.
    """
    method(), denominator()
    ours, theirs = [], []
    for _ in range(repeats):
        for fn, samples in ((method, ours), (denominator, theirs)):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(theirs)


def step_times(run: Callable[[int, "vc.results.OnStep"], object], steps: int) -> list[float]:
    """Seconds between consecutive `on_step` calls of one run: whole steady-state steps (the
    first, which also sets the run up, is left out)."""
    stamps: list[float] = []
    run(steps, lambda info: stamps.append(time.perf_counter()))
    return [after - before for before, after in zip(stamps, stamps[1:])]


def forward_backward_samples(m: vc.LoadedModel, count: int) -> list[float]:
    """`count` single timings of the forward+backward denominator at batch 1."""
    x = example_batch(m, 1)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        image = x.clone().requires_grad_(True)
        torch.autograd.grad(m.model(image).max(dim=1).values.sum(), [image])
        samples.append(time.perf_counter() - start)
    return samples


def per_step_ratio(m: vc.LoadedModel, run: Callable[[int, "vc.results.OnStep"], object], rounds: int = 8, steps: int = 8) -> tuple[float, float]:
    """(median seconds per step, median forward+backward) from rounds that alternate the two."""
    step_times(run, 3)  # warm-up: kernels, allocator
    forward_backward_samples(m, 2)
    steps_seen: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        base += forward_backward_samples(m, 3)
        steps_seen += step_times(run, steps)
    return statistics.median(steps_seen), statistics.median(base)
