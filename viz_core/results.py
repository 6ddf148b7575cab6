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


# --- linear fooling toy (viz_core/linear_toy.py) ---


@dataclass(frozen=True)
class LinearFooling:
    """A binary linear (logistic) classifier before and after the step x + ε·sign(w).

    `predicted_gain` is ε‖w‖₁, the linear explanation's claim; `score_after - score_before`
    equals it exactly because nothing is clipped here.
    """

    x: np.ndarray  # (d,)
    w: np.ndarray  # (d,)
    b: float
    eps: float
    delta: np.ndarray  # (d,) = eps * sign(w)
    x_adv: np.ndarray  # (d,)
    score_before: float
    score_after: float
    prob_before: float
    prob_after: float
    predicted_gain: float


@dataclass(frozen=True)
class DigitsFooling:
    """One digit pushed towards a target class along sign(w_target − w_source).

    The margin logit_target − logit_source grows by `predicted_gain` = ε‖w_t − w_s‖₁ when no pixel
    hits the [0, 1] range (`clip=False`); with clipping it grows by `margin_gain` ≤ that.
    Images are (8, 8) in [0, 1] for the clean and adversarial digit, signed for the perturbation.
    """

    image: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray
    label: int
    source: int
    target: int
    eps: float
    clip: bool
    probs_before: np.ndarray  # (10,)
    probs_after: np.ndarray  # (10,)
    predicted_gain: float
    margin_gain: float

    @property
    def fooled(self) -> bool:
        """True when the adversarial digit is classified as the target."""
        return int(np.argmax(self.probs_after)) == self.target


@dataclass(frozen=True)
class DimensionGain:
    """How a per-element change of size ε moves a linear score, against the input dimension d.

    `aligned` is ε‖w‖₁ (all elements moved along sign(w)): it grows like d. `random` is the
    root-mean-square change when the signs are random (measured; ≈ ε‖w‖₂): it grows only like √d.
    """

    dims: np.ndarray
    eps: float
    aligned: np.ndarray
    random: np.ndarray
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
