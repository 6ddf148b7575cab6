"""Why *predicted* and not *true*: each class's evidence side by side, and the contrastive map.

Why a contrast: Grad-CAM or guided backprop of the predicted class alone shows what the model
found for it, which for a mistake often is the same object the true class would use. The
gradient of score(predicted) − score(true) shows instead what tips the decision from one class
to the other (contrastive explanations, e.g. Prabhushankar et al., 2020). It is one more target
for the same backprop engine, so every method (vanilla, guided, Grad-CAM, occlusion) takes it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import LayerError, SettingsError, TargetError
from ..layers import default_layer
from ..results import Attribution, GradCam, OcclusionMap, OnStep, StepInfo, report
from ..targets import as_target, class_prob
from .backprop import backprop
from .common import ImageInput, as_input
from .gradcam import grad_cam
from .occlusion import occlusion

if TYPE_CHECKING:
    from ..hub import LoadedModel


@dataclass(frozen=True)
class ClassContrast:
    """Target: logit(a) − logit(b), how much the model prefers class a over class b."""

    a: int
    b: int

    def layers(self) -> tuple[str, ...]:
        return ()

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        return logits[:, self.a] - logits[:, self.b]

    def validate(self, m: "LoadedModel") -> None:
        for index in (self.a, self.b):
            as_target(int(index), m)  # range and head checks with the usual messages
        if self.a == self.b:
            raise TargetError(f"A contrast needs two different classes; both are {self.a}.", "Pick an image the model got wrong, or another class to compare with.")

    def describe(self, m: "LoadedModel") -> str:
        return f"'{m.class_names[self.a]}' − '{m.class_names[self.b]}' (logits)"

    def spec(self) -> dict[str, Any]:
        return {"kind": "contrast", "a": self.a, "b": self.b}


def class_contrast(a: int, b: int) -> ClassContrast:
    """Target: the logit of class `a` minus the logit of class `b`."""
    return ClassContrast(int(a), int(b))


@dataclass(frozen=True)
class Contrast:
    """Evidence for the predicted and for the true class, and for the difference between them.

    `cams` / `guided` / `occlusions` hold (predicted, true) in that order; `contrastive` is the
    vanilla gradient of logit(predicted) − logit(true) (C, H, W), `contrastive_cam` its Grad-CAM
    (None when the model has no layer with a map). `occlusions` is () when not asked for.
    """

    image: np.ndarray
    predicted: int
    true: int
    class_names: tuple[str, str]
    logits: tuple[float, float]
    probabilities: tuple[float, float]
    guided: tuple[Attribution, Attribution]
    cams: tuple[GradCam, GradCam] | None
    contrastive: Attribution
    contrastive_cam: GradCam | None
    occlusions: tuple[OcclusionMap, OcclusionMap] | tuple[()] = ()
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def contrast(
    m: "LoadedModel",
    image: ImageInput,
    predicted: int,
    true: int,
    *,
    layer: str | None = None,
    occlude: bool = True,
    patch: int | None = None,
    stride: int | None = None,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> Contrast:
    """Grad-CAM and guided backprop of both classes, the contrastive gradient and Grad-CAM, occlusion.

    `layer` is the Grad-CAM layer (default: the model's Grad-CAM default); `patch` / `stride`
    the occlusion square and step in pixels (default: a seventh of the image, half that step).
    """
    goal = class_contrast(predicted, true)
    goal.validate(m)
    x = as_input(m, image)
    notes: list[str] = []
    guided = (backprop(m, x, goal.a, rule="guided"), backprop(m, x, goal.b, rule="guided"))
    if guided[0].rule_applied == 0:
        notes.append("The guided rule found no activation to act on in this model: the 'guided' maps are plain gradients.")
    contrastive = backprop(m, x, goal)
    cams: tuple[GradCam, GradCam] | None = None
    contrastive_cam: GradCam | None = None
    try:
        cam_layer = layer or default_layer(m, "grad_cam")
        cams = (grad_cam(m, x, goal.a, layer=cam_layer), grad_cam(m, x, goal.b, layer=cam_layer))
        contrastive_cam = grad_cam(m, x, goal, layer=cam_layer)
    except LayerError as error:
        cam_layer = None
        notes.append(f"No Grad-CAM: {error.message}")
    occlusions: tuple[OcclusionMap, OcclusionMap] | tuple[()] = ()
    side = min(x.shape[2], x.shape[3])
    patch = int(patch or max(2, side // 7))
    stride = int(stride or max(1, patch // 2))
    if patch > side:
        raise SettingsError(f"The {patch}-pixel patch is larger than the {side}-pixel image.", f"Pick at most {side}.")
    if occlude:
        maps = []
        for k, which in enumerate(("predicted", "true")):
            def half(info: StepInfo, k: int = k, which: str = which) -> None:
                report(on_step, (k + info.fraction) / 2, f"occlusion for the {which} class: {info.message}")

            maps.append(occlusion(m, x, class_prob((goal.a, goal.b)[k]), patch=patch, stride=stride, batch_size=batch_size, on_step=half))
        occlusions = (maps[0], maps[1])
    with torch.inference_mode():
        logits = m.model(x)[0].float()
    probabilities = torch.softmax(logits, dim=-1)
    return Contrast(
        image=contrastive.image,
        predicted=goal.a,
        true=goal.b,
        class_names=(m.class_names[goal.a], m.class_names[goal.b]),
        logits=(float(logits[goal.a]), float(logits[goal.b])),
        probabilities=(float(probabilities[goal.a]), float(probabilities[goal.b])),
        guided=guided,
        cams=cams,
        contrastive=contrastive,
        contrastive_cam=contrastive_cam,
        occlusions=occlusions,
        params={"method": "contrast", "predicted": goal.a, "true": goal.b, "grad_cam_layer": cam_layer, "occlusion": {"patch": patch, "stride": stride} if occlude else None},
        notes=tuple(notes),
    )

