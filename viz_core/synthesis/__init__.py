"""Pictures made by gradient ascent on the input: one engine, composable objectives, params, transforms.

`optimize_image(m, objective, param, transforms, steps, ...)` is the loop; `objectives`,
`params` and `transforms` hold the building blocks; `recipes` the methods of CS231n lecture 9.
"""
from __future__ import annotations

from . import objectives, params, recipes, transforms
from .engine import OPTIMIZERS, classifier_path, make_generator, model_input, optimize_image, reference_activations
from .objectives import PENULTIMATE, Objective, Probe
from .params import Fourier, Param, Perturbation, Pixels, fourier, perturbation, pixels
from .recipes import class_model, deepdream, invert, invert_depths, inversion_layers, neuron, sample_channel_mean
from .transforms import affine, blur, blur_every, clip_contribution, clip_norm, decay, jitter, pad, rotate, scale, shift, standard

__all__ = [
    "OPTIMIZERS",
    "PENULTIMATE",
    "Fourier",
    "Objective",
    "Param",
    "Perturbation",
    "Pixels",
    "Probe",
    "affine",
    "blur",
    "class_model",
    "deepdream",
    "invert",
    "invert_depths",
    "inversion_layers",
    "neuron",
    "recipes",
    "sample_channel_mean",
    "blur_every",
    "classifier_path",
    "clip_contribution",
    "clip_norm",
    "decay",
    "fourier",
    "jitter",
    "make_generator",
    "model_input",
    "objectives",
    "optimize_image",
    "pad",
    "params",
    "perturbation",
    "pixels",
    "reference_activations",
    "rotate",
    "scale",
    "shift",
    "standard",
    "transforms",
]
