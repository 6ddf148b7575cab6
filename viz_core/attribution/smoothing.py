"""SmoothGrad (Smilkov et al., 2017) and integrated gradients (Sundararajan et al., 2017).

Both average many gradients of slightly different inputs; each chunk of inputs is one batched
forward + one `autograd.grad`, so n samples cost about n/batch batched passes, not n single ones.
"""
from __future__ import annotations

import numpy as np
import torch

from ..errors import SettingsError
from ..hub import LoadedModel
from ..images import gaussian_blur
from ..results import Attribution, OnStep, report
from ..targets import TargetLike, as_target, target_spec
from .backprop import Rule, gradients, resolve_rule, rule_notes
from .common import ImageInput, as_input, check_int, scores

BASELINES = ("black", "blurred", "mean")


def smoothgrad(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    samples: int = 25,
    noise: float = 0.15,
    rule: Rule = "vanilla",
    batch_size: int = 8,
    seed: int | torch.Generator = 0,
    on_step: OnStep | None = None,
) -> Attribution:
    """Mean gradient over `samples` copies of the image with Gaussian noise added.

    `noise` is the noise standard deviation as a fraction of the input's value range
    (max - min), as in the paper (10-20% works well). Noise 0 gives exactly the gradient.
    `seed`: an int, or a torch.Generator to draw the noise from.
    """
    rule_name, _ = resolve_rule(rule)
    samples = check_int(samples, "The number of samples", 1, 1000)
    batch = check_int(batch_size, "The batch size", 1, 256)
    if not 0 <= noise <= 1:
        raise SettingsError(f"The noise level must be between 0 and 1 (a fraction of the value range); got {noise}.")
    goal = as_target(target, m)
    x = as_input(m, image)
    rng = seed if isinstance(seed, torch.Generator) else torch.Generator(device=x.device).manual_seed(int(seed))
    sigma = float(noise) * float(x.max() - x.min())
    total = torch.zeros_like(x[0])
    applied, modules, done = 0, (), 0
    while done < samples:
        count = min(batch, samples - done)
        jitter = torch.randn((count, *x.shape[1:]), generator=rng, device=x.device, dtype=x.dtype)
        result = gradients(m, x + sigma * jitter, goal, rule)
        total += result.input_grad.sum(dim=0)
        if done == 0:
            applied, modules = result.applied, result.modules
        done += count
        report(on_step, done / samples, f"{done}/{samples} noisy samples", step=done)
    return Attribution(
        method="smoothgrad",
        attribution=(total / samples).cpu().numpy().astype(np.float32),
        image=m.deprocess(x),
        target=goal.describe(m),
        score=float(scores(m, x, goal)[0]),
        rule=rule_name,
        rule_applied=applied,
        rule_modules=modules,
        params={"method": "smoothgrad", "samples": samples, "noise": float(noise), "rule": rule_name, "seed": None if isinstance(seed, torch.Generator) else int(seed), "target": target_spec(goal)},
        notes=rule_notes(rule_name, applied),
    )


def baseline_input(m: LoadedModel, x: torch.Tensor, baseline: str | torch.Tensor, blur_sigma: float = 10.0) -> torch.Tensor:
    """The reference input: black pixels, a blurred copy, the data mean (normalised zero), or a tensor."""
    if isinstance(baseline, torch.Tensor):
        if baseline.shape[-3:] != x.shape[-3:]:
            raise SettingsError(f"The baseline has shape {tuple(baseline.shape)}; the input is {tuple(x.shape)}.")
        return baseline.detach().to(x).reshape(x.shape)
    if baseline == "black":
        low, _ = m.preprocessing.bounds()
        return low.to(x).expand_as(x).clone()
    if baseline == "blurred":
        return gaussian_blur(x, blur_sigma)
    if baseline == "mean":
        return torch.zeros_like(x)
    raise SettingsError(f"Unknown baseline '{baseline}'.", f"Use one of: {', '.join(BASELINES)}, or a tensor.")


def integrated_gradients(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    baseline: str | torch.Tensor = "black",
    steps: int = 32,
    batch_size: int = 8,
    on_step: OnStep | None = None,
) -> Attribution:
    """(x - x') * integral_0^1 grad f(x' + a (x - x')) da, by Gauss-Legendre quadrature.

    Completeness: the attribution sums to f(x) - f(x'); the result keeps both scores so
    `completeness_gap` shows the quadrature error. Gauss-Legendre is exact for polynomial
    paths and converges fast for smooth nets; on ReLU nets the integrand is piecewise constant
    and the error falls like 1/steps.
    """
    steps = check_int(steps, "The number of steps", 1, 1000)
    batch = check_int(batch_size, "The batch size", 1, 256)
    goal = as_target(target, m)
    x = as_input(m, image)
    reference = baseline_input(m, x, baseline)
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor((nodes + 1) / 2, dtype=x.dtype, device=x.device)
    weights_t = torch.tensor(weights / 2, dtype=x.dtype, device=x.device)
    delta = x - reference
    total = torch.zeros_like(x[0])
    for start in range(0, steps, batch):
        chunk = alphas[start : start + batch]
        result = gradients(m, reference + chunk[:, None, None, None] * delta, goal, "vanilla")
        total += (weights_t[start : start + batch, None, None, None] * result.input_grad).sum(dim=0)
        done = min(start + batch, steps)
        report(on_step, done / steps, f"{done}/{steps} steps", step=done)
    ends = scores(m, torch.cat([x, reference]), goal)
    return Attribution(
        method="integrated_gradients",
        attribution=(delta[0] * total).cpu().numpy().astype(np.float32),
        image=m.deprocess(x),
        target=goal.describe(m),
        score=float(ends[0]),
        baseline_score=float(ends[1]),
        params={"method": "integrated_gradients", "baseline": baseline if isinstance(baseline, str) else "tensor", "steps": steps, "target": target_spec(goal)},
    )

