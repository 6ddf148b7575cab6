"""Backpropagating to the image: gradients with rules, Grad-CAM, SmoothGrad, IG, occlusion, GrabCut."""
from __future__ import annotations

from .backprop import RULES, Rule, backprop, gradient_x_input, rule_modules
from .gradcam import channel_map, grad_cam, guided_grad_cam
from .occlusion import FILLS, occlusion
from .segment import grabcut_from_saliency
from .smoothing import BASELINES, integrated_gradients, smoothgrad

__all__ = [
    "BASELINES",
    "FILLS",
    "RULES",
    "Rule",
    "backprop",
    "channel_map",
    "grabcut_from_saliency",
    "grad_cam",
    "gradient_x_input",
    "guided_grad_cam",
    "integrated_gradients",
    "occlusion",
    "rule_modules",
    "smoothgrad",
]
