"""Results -> Plotly figures. Pure functions, no I/O, no Streamlit.

`figure(result)` draws any result kind through the function registered for its class; the
building blocks (`image`, `image_grid`, overlays, curves) and display helpers stay public for
pages that compose their own views. One visual language everywhere: images at their own aspect
ratio without ticks, one diverging scale centred at zero for signed maps, one sequential scale
for magnitudes, a shared range across panels that are compared, hover in the quantity's units.

Modules: `display` (colour scales, ranges, arrays -> pictures), `base` (image panels, overlays,
curves, bars), `dispatch` (the registry), and one per topic: `attribution`, `synthesis`,
`attention`, `dataset`, `evaluate`, `linear`, `trust`.
"""
from __future__ import annotations

from .attention import attention_figure, attention_heads_grid, attention_overlay, attention_title, relevance_figure, relevance_title
from .attribution import (
    attribution_figure,
    attribution_panels,
    attribution_title,
    class_map,
    grad_cam_figure,
    occlusion_figure,
    position_picker,
    segmentation_figure,
    segmentation_panels,
)
from .base import (
    MARGIN,
    add_box,
    cell,
    curve,
    grid_overlay,
    heatmap_overlay,
    image,
    image_axes,
    image_grid,
    image_with_box,
    overlay,
    panel_grid,
    predictions_bar,
    probability_comparison,
)
from .compare import cka_figure, comparison_figure, embedding_pair, matrix_figure
from .dataset import (
    embedding_scatter,
    filters_figure,
    filters_picture,
    measured_field_figure,
    projection_figure,
    receptive_field_figure,
    top_patches_figure,
)
from .dispatch import draws, figure, registered
from .display import (
    DIVERGING,
    QUALITATIVE,
    SEQUENTIAL,
    amplified,
    colour_scale,
    eps_text,
    gradient_picture,
    normalised,
    symmetric_range,
    tile_canvas,
    top_classes,
)
from .evaluate import confidence_figure, confusion_figure, contrast_figure, evaluation_figure, pairs_figure, reliability_figure
from .linear import digit_panels, dimension_gain, linear_fooling
from .model import layer_depths
from .trust import faithfulness_figure, faithfulness_summary_figure, method_colour, sanity_curves, sanity_grid
from .synthesis import (
    adversarial_panels,
    attack_sweep,
    reconstructions,
    style_losses,
    style_transfer_figure,
    synthesis_curve,
    synthesis_figure,
    synthesis_title,
)

__all__ = [
    # dispatch: any result -> its figure
    "figure", "draws", "registered",
    # the model itself
    "layer_depths",
    # display: colour scales, ranges, arrays as pictures
    "DIVERGING", "SEQUENTIAL", "QUALITATIVE", "symmetric_range", "colour_scale", "normalised", "amplified",
    "gradient_picture", "tile_canvas", "top_classes", "eps_text",
    # building blocks
    "MARGIN", "image_axes", "panel_grid", "cell", "image", "image_grid", "add_box", "image_with_box", "overlay",
    "heatmap_overlay", "grid_overlay", "curve", "predictions_bar", "probability_comparison",
    # attribution
    "attribution_title", "attribution_figure", "attribution_panels", "grad_cam_figure",
    "position_picker", "class_map", "occlusion_figure", "segmentation_panels", "segmentation_figure",
    # transformer attention
    "attention_title", "attention_overlay", "attention_heads_grid", "attention_figure", "relevance_title", "relevance_figure",
    # synthesis, adversarial images, neural style
    "synthesis_title", "synthesis_figure", "synthesis_curve", "reconstructions", "adversarial_panels",
    "attack_sweep", "style_transfer_figure", "style_losses",
    # dataset passes
    "filters_picture", "filters_figure", "top_patches_figure", "receptive_field_figure",
    "measured_field_figure", "embedding_scatter", "projection_figure",
    # trust: deletion / insertion and randomisation checks
    "faithfulness_figure", "faithfulness_summary_figure", "sanity_curves", "sanity_grid", "method_colour",
    # comparisons: models and methods side by side, correlation and CKA matrices
    "comparison_figure", "matrix_figure", "cka_figure", "embedding_pair",
    # evaluation on a labelled collection, and why one mistake happened
    "confusion_figure", "pairs_figure", "reliability_figure", "confidence_figure", "evaluation_figure", "contrast_figure",
    # the linear explanation
    "linear_fooling", "digit_panels", "dimension_gain",
]
