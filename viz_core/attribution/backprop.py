"""The backprop engine: the gradient of any target (class or unit) w.r.t. the image, with a rule.

Rules (one flag, as in the lecture) replace each activation's local derivative f'(x) in the
backward pass:
- vanilla: f'(x) * g, the true gradient (Simonyan et al., 2014);
- guided: f'(x) * max(g, 0), guided backpropagation (Springenberg et al., 2015);
- deconvnet: max(g, 0), ignoring x (Zeiler & Fergus, 2014).
For ReLU these are exactly the papers' definitions. For smooth or capped activations (ReLU6,
LeakyReLU, SiLU, GELU, Hardswish, ...) we keep the same form with f'(x) the activation's own
derivative, computed in closed form for piecewise-linear ones and by autograd on the module
otherwise. Rules apply to rectifier-like activations only: Sigmoid, Tanh and Hardsigmoid are
multiplicative gates (squeeze-excitation, gated units), not rectifiers, so they keep their true
derivative; replacing a gate's derivative by 1 (deconvnet) would be meaningless.
"""
from __future__ import annotations

from typing import Union

import numpy as np
import torch
from torch import nn

from ..errors import SettingsError
from ..hooks import GradientRule
from ..hub import LoadedModel
from ..layers import is_elementwise_activation
from ..results import Attribution
from ..targets import Target, TargetLike, as_target, target_spec
from .common import ImageInput, PassResult, as_input, forward_backward

RULES = ("vanilla", "guided", "deconvnet")
# a rule by name, or any function (module, activation input, grad_out) -> grad_in
Rule = Union[str, GradientRule]
GATES: tuple[type[nn.Module], ...] = (nn.Sigmoid, nn.Tanh, nn.Hardsigmoid)
GATE_NAMES = frozenset({"Sigmoid", "Tanh", "Hardsigmoid", "HardSigmoid"})  # timm defines its own classes too


def local_backward(module: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """f'(x) * grad for an elementwise activation f (the activation's own backward).

    Piecewise-linear activations use ATen's fused backward kernels (4x faster than building a
    mask); others go through autograd on `module.forward` (not `module(...)`, so no hook fires
    and the rule cannot re-enter itself).
    """
    if isinstance(module, nn.ReLU):
        return torch.ops.aten.threshold_backward(grad, x, 0)
    if isinstance(module, nn.Hardtanh):  # ReLU6 is a Hardtanh
        return torch.ops.aten.hardtanh_backward(grad, x, module.min_val, module.max_val)
    if isinstance(module, nn.LeakyReLU):
        return torch.ops.aten.leaky_relu_backward(grad, x, module.negative_slope, False)
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        (result,) = torch.autograd.grad(module.forward(leaf), leaf, grad)
    return result


def guided_rule(module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """Guided backprop: pass only positive gradients, through units that were active."""
    if isinstance(module, (nn.ReLU, nn.Hardtanh)) or (isinstance(module, nn.LeakyReLU) and module.negative_slope >= 0):
        # f' >= 0 here, so f'(x)·max(g, 0) = max(f'(x)·g, 0): rectify the fresh result in place,
        # one pass over the activation instead of two and no extra tensor (guided 1.2x -> 1.1x)
        return local_backward(module, x, grad_out).clamp_(min=0)
    return local_backward(module, x, grad_out.clamp(min=0))


def deconvnet_rule(module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """Deconvnet: rectify the backward signal itself, whatever the forward input was."""
    return grad_out.clamp(min=0)


_RULE_FUNCTIONS: dict[str, GradientRule | None] = {"vanilla": None, "guided": guided_rule, "deconvnet": deconvnet_rule}


def rule_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The activations a rule applies to: elementwise and rectifier-like (gates excluded)."""
    return {
        name: module
        for name, module in model.named_modules()
        if is_elementwise_activation(module) and not isinstance(module, GATES) and type(module).__name__ not in GATE_NAMES
    }


def resolve_rule(rule: Rule) -> tuple[str, GradientRule | None]:
    """(name, function) of a rule given by name or as a function (None: the true gradient)."""
    if callable(rule):
        return getattr(rule, "__name__", "custom rule"), rule
    if rule not in RULES:
        raise SettingsError(f"Unknown backprop rule '{rule}'.", f"Use one of: {', '.join(RULES)}, or pass a function (module, x, grad_out) -> grad_in.")
    return rule, _RULE_FUNCTIONS[rule]


def rule_notes(rule: str, applied: int) -> tuple[str, ...]:
    """What a reader must know when a rule had nothing to act on."""
    if rule != "vanilla" and applied == 0:
        return (
            f"The {rule} rule applies to no activation of this model (none is a rectifier-like module "
            f"convlens can reach), so this is the plain gradient, not {rule} backprop.",
        )
    return ()


def gradients(m: LoadedModel, x: torch.Tensor, target: Target, rule: Rule = "vanilla", layer: str | None = None) -> PassResult:
    """Batched forward + gradient with a rule (see `common.forward_backward`)."""
    _, function = resolve_rule(rule)
    modules = rule_modules(m.model) if function is not None else None
    return forward_backward(m, x, target, function, modules, layer)


def backprop(m: LoadedModel, image: ImageInput, target: TargetLike, *, rule: Rule = "vanilla") -> Attribution:
    """d target / d input with a backprop rule: vanilla, guided, deconvnet, or your own function.

    `target` is a class index, `class_logit(k)`, `class_prob(k)` or `unit(layer, channel, y, x)`
    of any catalogue layer. The attribution is (C, H, W) in normalised input units; its
    `.saliency` is Simonyan et al.'s (2014) saliency map, max_c |gradient|.
    """
    name, _ = resolve_rule(rule)
    goal = as_target(target, m)
    x = as_input(m, image)
    result = gradients(m, x, goal, rule)
    return Attribution(
        method=name,
        attribution=result.input_grad[0].cpu().numpy().astype(np.float32),
        image=m.deprocess(x),
        target=goal.describe(m),
        score=float(result.scores[0]),
        rule=name,
        rule_applied=result.applied,
        rule_modules=result.modules,
        params={"method": "backprop", "rule": name, "target": target_spec(goal)},
        notes=rule_notes(name, result.applied),
    )


def gradient_x_input(m: LoadedModel, image: ImageInput, target: TargetLike) -> Attribution:
    """Gradient times input (Shrikumar et al., 2016): a first-order share of the score per value."""
    goal = as_target(target, m)
    x = as_input(m, image)
    base = backprop(m, x, goal)
    return Attribution(
        method="gradient_x_input",
        attribution=(base.attribution * x[0].cpu().numpy()).astype(np.float32),
        image=base.image,
        target=base.target,
        score=base.score,
        params={"method": "gradient_x_input", "target": target_spec(goal)},
    )
