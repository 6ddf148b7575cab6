"""convlens' library: open up any image model and show what it has learned.

Importing it loads torch, not timm, scikit-learn or UMAP: those load on first use of an engine.
One idea carries the whole library: backpropagating to the image. Attribution, synthesis,
inversion, DeepDream, style and adversarial images are one engine with different objectives.
"""
from __future__ import annotations

from .attribution import (
    backprop,
    channel_map,
    grabcut_from_saliency,
    grad_cam,
    gradient_x_input,
    guided_grad_cam,
    integrated_gradients,
    occlusion,
    saliency,
    smoothgrad,
)
from .dataset import Collection, collection, features, mosaic, neighbours, project, receptive_field, scan, top_patches, warm_umap
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
from .filters import filter_layers, filters
from .hub import DEFAULT_MODEL, LoadedModel, Prediction, available_models, load_model
from .images import load_image, sample_image, sample_names
from .linear_toy import digit_min_epsilon, digits_classifier, dimension_gain, fool_digit, lecture_example, linear_fool
from .results import Cancelled, StepInfo, Synthesis
from .synthesis import optimize_image
from .synthesis.adversarial import adversarial, attack_sweep, fgsm
from .synthesis.recipes import class_model, deepdream, invert, invert_depths, neuron, sample_channel_mean
from .synthesis.style import default_layers as style_layers
from .synthesis.style import style_transfer
from .targets import class_logit, class_prob, unit

__all__ = [
    # models, images, targets, errors
    "DEFAULT_MODEL", "LoadedModel", "Prediction", "available_models", "load_model",
    "load_image", "sample_image", "sample_names",
    "class_logit", "class_prob", "unit",
    "Cancelled", "StepInfo", "Synthesis",
    "ConvlensError", "DatasetError", "ImageError", "LayerError", "ModelNotFoundError", "ModelTooLargeError",
    "TargetError", "WeightsError",
    # attribution: backprop to the image, Grad-CAM, occlusion, segmentation
    "backprop", "saliency", "gradient_x_input", "grad_cam", "guided_grad_cam", "smoothgrad",
    "integrated_gradients", "occlusion", "grabcut_from_saliency", "channel_map",
    # dataset passes: collections, top patches, embeddings, filters
    "Collection", "collection", "scan", "top_patches", "receptive_field", "features", "project", "neighbours",
    "mosaic", "warm_umap", "filters", "filter_layers",
    # image synthesis: one optimisation engine and its recipes
    "optimize_image", "class_model", "neuron", "sample_channel_mean", "invert", "invert_depths", "deepdream",
    "style_transfer", "style_layers", "fgsm", "adversarial", "attack_sweep",
    # the linear explanation of adversarial examples
    "linear_fool", "lecture_example", "digits_classifier", "fool_digit", "digit_min_epsilon", "dimension_gain",
]
