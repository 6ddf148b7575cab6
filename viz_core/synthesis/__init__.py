"""Pictures made by gradient ascent on the input: one engine, composable objectives, params, transforms.

`optimize_image(m, objective, param, transforms, ...)` is the loop; `objectives`, `params` and
`transforms` hold the building blocks; `recipes`, `style` and `adversarial` the methods of CS231n
lecture 9, each configured by one settings dataclass (`settings`).
"""
from __future__ import annotations

from . import objectives, params, recipes, settings, transforms
from .engine import OPTIMIZERS, StepCallback, StepState, optimize_image
from .objectives import PENULTIMATE, Objective, Probe
from .params import Fourier, Param, Perturbation, Pixels, fourier, perturbation, pixels
from .settings import Ascent, Dream, Inversion, Style

__all__ = [
    "OPTIMIZERS",
    "PENULTIMATE",
    "Ascent",
    "Dream",
    "Fourier",
    "Inversion",
    "Objective",
    "Param",
    "Perturbation",
    "Pixels",
    "Probe",
    "StepCallback",
    "StepState",
    "Style",
    "fourier",
    "objectives",
    "optimize_image",
    "params",
    "perturbation",
    "pixels",
    "recipes",
    "settings",
    "transforms",
]
