"""Frozen result types shared by every engine: numpy arrays in, the parameters that made them kept.

Why numpy and frozen: results go into Streamlit's data cache (pickled, copied) and into
downloads; they must not hold tensors, graphs or references to the model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepInfo:
    """Progress of a long run: `fraction` in [0, 1], a message, and optionally the current image."""

    fraction: float
    message: str = ""
    step: int | None = None
    score: float | None = None
    image: np.ndarray | None = None  # HxWx3 uint8 preview


OnStep = Callable[[StepInfo], None]


class Cancelled(Exception):
    """Raised by an `on_step` callback to stop a long run early."""


def report(on_step: OnStep | None, fraction: float, message: str = "", **extra: Any) -> None:
    """Call the progress callback if there is one (engines never check for None themselves)."""
    if on_step is not None:
        on_step(StepInfo(float(min(max(fraction, 0.0), 1.0)), message, **extra))


@dataclass(frozen=True)
class Synthesis:
    """A picture made by gradient ascent (`optimize_image` and its recipes).

    image: the best-scoring picture seen (HxWx3 uint8); final_image: the picture after the last
    step; scores: the objective at every step run; metrics: method-specific checks (e.g. the
    class probability of a class model, the relative code distance of an inversion).
    """

    image: np.ndarray
    final_image: np.ndarray
    scores: np.ndarray
    best_step: int
    stopped_early: bool
    seconds: float
    params: dict[str, Any]
    metrics: dict[str, float]
