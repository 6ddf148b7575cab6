"""convlens' library: open up any image model and show what it has learned.

Importing it loads torch, not timm, scikit-learn, UMAP or Plotly: those load on first use (the
figures as `vc.figures`). One idea carries the whole library: backpropagating to the image.
Attribution, synthesis, inversion, DeepDream, style and adversarial images are one engine with
different objectives, explaining or maximising one vocabulary of targets.
"""
from __future__ import annotations

import importlib
from typing import Any

from .attribution import (
    BASELINES,
    FILLS,
    RULES,
    backprop,
    channel_map,
    grabcut_from_saliency,
    grad_cam,
    gradient_x_input,
    guided_grad_cam,
    integrated_gradients,
    occlusion,
    smoothgrad,
)
from .attribution.faithfulness import LABELS as METHOD_LABELS
from .attribution.faithfulness import METHODS as TRUST_METHODS
from .attribution.faithfulness import MapSettings, deletion_insertion, faithfulness, faithfulness_summary, stored_faithfulness_summary
from .attribution.sanity import THRESHOLD as SANITY_THRESHOLD
from .attribution.sanity import data_randomisation, layer_groups, model_randomisation
from .attribution.attention import (
    HEAD_FUSIONS,
    AttentionBlock,
    attention_blocks,
    attention_maps,
    attention_rollout,
    gradient_attention,
    relevance_matrix,
    rollout_matrix,
)
from .compare import METHODS, LayerSimilarity, MapComparison, attribution_map, cka, compare_maps, explain, linear_cka, relative_layer, spearman
from .attribution.contrast import ClassContrast, Contrast, class_contrast, contrast
from .config import CollectionEntry, Config, ConfigError, ModelEntry, Problem, config_path, load_config, load_entry, read_labels
from .dataset import Collection, collection, features, mosaic, neighbours, project, receptive_field, scan, top_patches, warm_umap
from .dataset.evaluate import (
    Accuracy,
    Evaluation,
    LabelMatch,
    class_table,
    confused_classes,
    evaluate,
    image_table,
    match_labels,
    most_confident_mistakes,
    select,
    stored_evaluation,
    wilson,
)
from .dataset.sources import folder_within
from .errors import (
    ConvlensError,
    DatasetError,
    ImageError,
    LayerError,
    ModelNotFoundError,
    ModelTooLargeError,
    SettingsError,
    TargetError,
    WeightsError,
)
from .export import ExportError, Reproduction, files_zip, reproduce, results_zip
from .filters import filter_layers, filters
from .report import ReportError, ReportItem, report_html
from .report import item as report_item
from .hub import DEFAULT_MODEL, LoadedModel, Prediction, available_models, load_model, resolve_device, weight_sources
from .images import image_digest, load_image, sample_image, sample_names
from .layers import Geometry, LayerInfo, default_layer, position_grid, spread_stages, style_layers
from .linear_toy import LECTURE_EPS, digit_min_epsilon, digits_classifier, dimension_gain, fool_digit, lecture_example, linear_fool
from .results import (
    Adversarial,
    AttackSweep,
    AttentionHeads,
    AttentionRelevance,
    Attribution,
    Cancelled,
    DigitsFooling,
    DimensionGain,
    Faithfulness,
    FaithfulnessSummary,
    Features,
    Filters,
    GradCam,
    LinearFooling,
    Neighbours,
    OcclusionMap,
    OnStep,
    Projection,
    Sanity,
    Segmentation,
    StepInfo,
    StyleTransfer,
    Synthesis,
    TopPatches,
)
from .runtime import keep_freed_memory, runtime_summary
from .store import Store, StoreError, Stored, entry_key, weights_digest
from .synthesis import optimize_image
from .synthesis.adversarial import SWEEP_EPSILONS, SWEEP_IMAGES, adversarial, attack_sweep, fgsm
from .synthesis.recipes import accentuate, class_model, deepdream, diverse, invert, invert_depths, neuron, sample_channel_mean
from .synthesis.settings import Accent, Ascent, Dream, Inversion, Style
from .synthesis.style import style_transfer
from .targets import ClassScore, Target, Unit, as_target, centre_unit, class_logit, class_prob, from_spec, unit

__all__ = [
    # models, images, layers, targets, errors
    "DEFAULT_MODEL", "LoadedModel", "Prediction", "available_models", "load_model", "resolve_device", "weight_sources", "keep_freed_memory", "runtime_summary",
    "load_image", "sample_image", "sample_names", "image_digest",
    "LayerInfo", "Geometry", "default_layer", "position_grid", "spread_stages", "style_layers",
    "Target", "ClassScore", "Unit", "class_logit", "class_prob", "unit", "centre_unit", "as_target", "from_spec",
    "ConvlensError", "DatasetError", "ImageError", "LayerError", "ModelNotFoundError", "ModelTooLargeError",
    "SettingsError", "TargetError", "WeightsError",
    # exports that reproduce (viz_core.export: manifest, results_zip, reproduce)
    "results_zip", "files_zip", "reproduce", "Reproduction", "ExportError",
    # comparing models and methods: maps on one scale, rank correlation, linear CKA between layers
    "METHODS", "explain", "MapComparison", "LayerSimilarity", "compare_maps", "attribution_map", "spearman", "linear_cka", "cka", "relative_layer",
    # reports: results with captions as one offline HTML file
    "ReportItem", "report_item", "report_html", "ReportError",
    # results and progress
    "Attribution", "GradCam", "OcclusionMap", "Segmentation", "Synthesis", "Adversarial", "AttackSweep", "StyleTransfer",
    "Faithfulness", "FaithfulnessSummary", "Sanity",
    "TopPatches", "Features", "Projection", "Neighbours", "Filters", "LinearFooling", "DigitsFooling", "DimensionGain",
    "AttentionHeads", "AttentionRelevance",
    "StepInfo", "OnStep", "Cancelled",
    # attribution: backprop to the image, Grad-CAM, occlusion, segmentation
    "RULES", "BASELINES", "FILLS",
    "backprop", "gradient_x_input", "grad_cam", "guided_grad_cam", "smoothgrad",
    "integrated_gradients", "occlusion", "grabcut_from_saliency", "channel_map",
    # trust: deletion / insertion (faithfulness) and randomisation sanity checks
    "TRUST_METHODS", "METHOD_LABELS", "MapSettings", "deletion_insertion", "faithfulness", "faithfulness_summary", "stored_faithfulness_summary",
    "SANITY_THRESHOLD", "model_randomisation", "data_randomisation", "layer_groups",
    # transformer attention: per-head maps, rollout, gradient-weighted attention
    "HEAD_FUSIONS", "AttentionBlock", "attention_blocks", "attention_maps", "attention_rollout", "gradient_attention",
    "rollout_matrix", "relevance_matrix",
    # why predicted and not true: both classes' evidence and the contrastive map
    "contrast", "Contrast", "class_contrast", "ClassContrast",
    # dataset passes: collections, top patches, embeddings, filters
    "Collection", "collection", "folder_within", "scan", "top_patches", "receptive_field", "features", "project", "neighbours",
    "mosaic", "warm_umap", "filters", "filter_layers",
    # evaluation on a labelled collection: metrics, confusions, calibration, mistakes
    "evaluate", "stored_evaluation", "Evaluation", "Accuracy", "LabelMatch", "match_labels", "select", "most_confident_mistakes",
    "confused_classes", "image_table", "class_table", "wilson",
    # the deployment file (convlens.toml) and the on-disk results store
    "load_config", "load_entry", "read_labels", "config_path", "Config", "ModelEntry", "CollectionEntry", "Problem", "ConfigError",
    "Store", "StoreError", "Stored", "entry_key", "weights_digest",
    # image synthesis: one optimisation engine and its recipes
    "optimize_image", "Ascent", "Accent", "Inversion", "Dream", "Style",
    "class_model", "neuron", "accentuate", "diverse", "sample_channel_mean", "invert", "invert_depths", "deepdream",
    "style_transfer", "fgsm", "adversarial", "attack_sweep", "SWEEP_EPSILONS", "SWEEP_IMAGES",
    # the linear explanation of adversarial examples
    "linear_fool", "LECTURE_EPS", "lecture_example", "digits_classifier", "fool_digit", "digit_min_epsilon", "dimension_gain",
    # figures (Plotly), imported on first use
    "figures",
]


def __getattr__(name: str) -> Any:
    """`vc.figures` imports Plotly only when a figure is first asked for."""
    if name == "figures":
        return importlib.import_module(".figures", __name__)
    raise AttributeError(f"module 'viz_core' has no attribute {name!r}")
