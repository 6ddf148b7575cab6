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
from .attribution import (
    backprop,
    grabcut_from_saliency,
    grad_cam,
    gradient_x_input,
    guided_grad_cam,
    integrated_gradients,
    occlusion,
    saliency,
    smoothgrad,
)
from .synthesis import optimize_image
from .synthesis.recipes import class_model, deepdream, invert, invert_depths, neuron, sample_channel_mean
from .results import Synthesis
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
    "class_model",
    "deepdream",
    "invert",
    "invert_depths",
    "neuron",
    "sample_channel_mean",
    "Synthesis",
    "sample_image",
    "sample_names",
    "unit",
    "backprop",
    "grabcut_from_saliency",
    "grad_cam",
    "gradient_x_input",
    "guided_grad_cam",
    "integrated_gradients",
    "occlusion",
    "saliency",
    "smoothgrad",
]
from .dataset import Collection, collection, features, mosaic, neighbours, project, receptive_field, scan, top_patches, warm_umap
from .filters import filter_layers, filters

__all__ += [
    "Collection",
    "collection",
    "features",
    "filter_layers",
    "filters",
    "mosaic",
    "neighbours",
    "project",
    "receptive_field",
    "scan",
    "top_patches",
    "warm_umap",
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
