"""convlens' library: open up any image model and show what it has learned.

Nothing heavy is imported here; torch and timm load on first use of an engine.
"""
from __future__ import annotations

from .errors import (
    ConvlensError,
    DatasetError,
    ImageError,
    LayerError,
    ModelNotFoundError,
    ModelTooLargeError,
    TargetError,
    WeightsError,
)
from .hub import DEFAULT_MODEL, LoadedModel, Prediction, available_models, load_model
from .images import load_image, sample_image, sample_names
from .results import Cancelled, StepInfo
from .targets import class_logit, class_prob, unit
from .linear_toy import digit_min_epsilon, digits_classifier, dimension_gain, fool_digit, lecture_example, linear_fool
from .synthesis import optimize_image
from .synthesis.adversarial import adversarial, attack_sweep, fgsm
from .synthesis.style import default_layers as style_layers, style_transfer

__all__ = [
    "DEFAULT_MODEL",
    "Cancelled",
    "ConvlensError",
    "DatasetError",
    "ImageError",
    "LayerError",
    "LoadedModel",
    "ModelNotFoundError",
    "ModelTooLargeError",
    "Prediction",
    "StepInfo",
    "TargetError",
    "WeightsError",
    "available_models",
    "class_logit",
    "class_prob",
    "load_image",
    "load_model",
    "optimize_image",
    "sample_image",
    "sample_names",
    "unit",
    "digit_min_epsilon",
    "digits_classifier",
    "dimension_gain",
    "fool_digit",
    "lecture_example",
    "linear_fool",
    "adversarial",
    "attack_sweep",
    "fgsm",
    "style_layers",
    "style_transfer",
]
