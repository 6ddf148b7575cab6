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
