"""What every attribution method shares: turning the caller's image into one input tensor, the
forward + gradient pass with an optional backprop rule, and a Gaussian blur for baselines and fills.

Why one pass function: vanilla/guided/deconvnet, SmoothGrad, integrated gradients and Grad-CAM
differ only in the inputs they feed and what they keep, so the hooks, the lock and the
no-mutation guarantees live here once.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import torch

from ..errors import ImageError, LayerError, SettingsError
from ..hooks import GradientRule, activation_rule, capture, model_lock
from ..hub import LoadedModel
from ..images import ImageLike
from ..targets import Target

ImageInput = ImageLike | torch.Tensor


def as_input(m: LoadedModel, image: ImageInput) -> torch.Tensor:
    """A picture (anything `m.preprocess` reads) or a normalised tensor -> detached (1, C, H, W)."""
    if not isinstance(image, torch.Tensor):
        return m.preprocess(image)
    x = image.detach()
    if x.ndim == 3:
        x = x.unsqueeze(0)
    channels, height, width = m.input_size
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != channels:
        raise ImageError(
            f"A tensor of shape {tuple(image.shape)} is not one normalised image for this model.",
            f"Pass a 1x{channels}x{height}x{width} tensor (what m.preprocess returns) or a picture.",
        )
    if tuple(x.shape[2:]) != (height, width):
        raise ImageError(
            f"The tensor is {x.shape[2]}x{x.shape[3]} pixels; this model takes {height}x{width}.",
            "Pass a picture instead (it is resized for you) or use m.preprocess.",
        )
    if not torch.isfinite(x).all():
        raise ImageError("The input tensor contains NaN or infinite values.")
    return x.to(device=m.device, dtype=torch.float32)


@dataclass
class PassResult:
    """One forward + gradient pass over a batch (tensors stay inside the attribution package)."""

    input_grad: torch.Tensor  # (B, C, H, W) d score / d input
    scores: torch.Tensor  # (B,)
    applied: int  # activation calls the rule replaced in this forward
    modules: tuple[str, ...]  # names of those activations
    layer_value: torch.Tensor | None = None  # the captured layer's output, detached
    layer_grad: torch.Tensor | None = None  # d score / d layer output


def forward_backward(
    m: LoadedModel,
    x: torch.Tensor,
    target: Target,
    rule: GradientRule | None = None,
    rule_modules: dict[str, torch.nn.Module] | None = None,
    layer: str | None = None,
) -> PassResult:
    """Forward `x` (B, C, H, W), score `target`, and take the gradient w.r.t. a clone of `x`.

    `rule` replaces the local derivative of every module in `rule_modules`; `layer` also returns
    that layer's output and its gradient. Only `torch.autograd.grad` is used: no `.backward()`,
    so no parameter's `.grad` is touched. All hooks are scoped to this call, under the model's lock.
    """
    image = x.detach().clone().requires_grad_(True)
    wanted = list(dict.fromkeys(target.layers() + ((layer,) if layer else ())))
    with torch.inference_mode(False), torch.enable_grad(), model_lock(m.model), ExitStack() as stack:
        names = list(rule_modules or {}) if rule is not None else []
        stats = stack.enter_context(activation_rule(m.model, names, rule)) if names else None
        activations = stack.enter_context(capture(m.model, wanted, detach=False)) if wanted else {}
        logits = m.model(image)
        missing = [name for name in wanted if name not in activations]
        if missing:
            raise LayerError(f"Layer '{missing[0]}' did not produce a tensor during the forward pass.", "Pick another layer from the catalogue.")
        scores = target.score(logits, activations)
        inputs = [image] + ([activations[layer]] if layer else [])
        if scores.requires_grad:
            grads = torch.autograd.grad(scores.sum(), inputs, allow_unused=True)
        else:  # a score that depends on no input value (e.g. a constant logit)
            grads = (None,) * len(inputs)
    input_grad = grads[0] if grads[0] is not None else torch.zeros_like(image)
    layer_grad = None
    if layer:
        layer_grad = grads[1] if grads[1] is not None else torch.zeros_like(activations[layer])
    applied = stats.applied if stats is not None else 0
    used = tuple(name for name in names if stats is not None and name in stats.modules)
    return PassResult(
        input_grad.detach(),
        scores.detach(),
        applied,
        used,
        activations[layer].detach() if layer else None,
        layer_grad.detach() if layer_grad is not None else None,
    )


def scores(m: LoadedModel, x: torch.Tensor, target: Target) -> torch.Tensor:
    """The target's score (B,) for a batch, without gradients (inference mode)."""
    with torch.inference_mode(), model_lock(m.model), capture(m.model, list(target.layers())) as activations:
        return target.score(m.model(x), activations).float().clone()


def check_int(value: int, name: str, low: int = 1, high: int | None = None) -> int:
    """An integer parameter in [low, high], or a message that says the valid range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < low or (high is not None and value > high):
        valid = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SettingsError(f"{name} must be a whole number {valid}; got {value!r}.")
    return int(value)
