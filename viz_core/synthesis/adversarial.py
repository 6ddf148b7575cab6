"""Adversarial ("fooling") images: FGSM and projected gradient attacks, as recipes over `optimize_image`.

Szegedy et al. (2013) found that imperceptible changes turn any image into any class; Goodfellow,
Shlens & Szegedy (2014) explained it by the networks' near-linearity and gave the one-step FGSM;
Madry et al. (2018) made the iterated, projected version (PGD) the standard attack.

Why a steepest-ascent perturbation: PGD does not step along the raw gradient but along the
steepest-ascent direction of its norm ball: sign(g) for L∞, g/‖g‖₂ for L2. Routing the engine's
perturbation through an identity whose backward returns that direction makes the engine's plain
SGD step (size α) exactly a PGD step; the engine's projection keeps it inside the ε-ball and the
picture inside [0, 1]. One step of size ε is exactly FGSM.
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import SettingsError, TargetError
from ..images import ImageLike, sample_image, sample_names
from ..results import Adversarial, AttackSweep, Cancelled, OnStep, StepInfo, report
from ..targets import ClassScore, TargetLike, as_target, require_classifier
from .engine import StepState, optimize_image
from .objectives import Objective
from .params import Perturbation

if TYPE_CHECKING:
    from ..hub import LoadedModel

NORMS = ("linf", "l2")
SWEEP_EPSILONS = tuple(v / 255 for v in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0))
SWEEP_IMAGES = 5


class _Steepest(torch.autograd.Function):
    """Identity forward; backward returns the steepest-ascent direction of the norm (and records |g|)."""

    @staticmethod
    def forward(ctx: Any, delta: torch.Tensor, norm: str, record: dict[str, float]) -> torch.Tensor:  # type: ignore[override]
        ctx.norm, ctx.record = norm, record
        return delta.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        # first-order gain of one step of size ε: ε‖g‖₁ for L∞ (the linear explanation), ε‖g‖₂ for L2
        ctx.record.setdefault("dual_norm", float(grad.abs().sum() if ctx.norm == "linf" else grad.norm()))
        if ctx.norm == "linf":
            return grad.sign(), None, None
        return grad / grad.norm().clamp_min(1e-12), None, None


class SteepestPerturbation(Perturbation):
    """The engine's ε-ball perturbation, whose gradient is replaced by PGD's step direction."""

    def __init__(self, image01: np.ndarray, eps: float, norm: str) -> None:
        super().__init__(image01, eps, norm)
        self.record: dict[str, float] = {}

    def render(self) -> torch.Tensor:
        return (self.base + _Steepest.apply(self.delta, self.norm, self.record)).clamp(0, 1)


def log_prob(index: int) -> Objective:
    """log p(class): the cross-entropy objective of a targeted attack (steeper than p near 0)."""
    return Objective(f"log p[{index}]", lambda p: torch.log_softmax(p.logits, dim=-1)[:, index])


def away_from(index: int) -> Objective:
    """−log p(class): the loss of the clean label, which an untargeted attack increases."""
    return Objective(f"-log p[{index}]", lambda p: -torch.log_softmax(p.logits, dim=-1)[:, index])


def _probabilities(m: "LoadedModel", image01: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        logits = m.model(m.preprocessing.to_tensor(image01).to(m.device))
    return torch.softmax(logits.float(), dim=-1)[0].cpu().numpy().astype(np.float64)


def _check(m: "LoadedModel", eps: float, norm: str, steps: int, target: TargetLike | None) -> int | None:
    require_classifier(m, "so there is no class to attack towards or away from")
    if norm not in NORMS:
        raise SettingsError(f"Unknown norm {norm!r}.", "Use 'linf' (largest change of any pixel) or 'l2' (length of the whole change).")
    if not (math.isfinite(eps) and eps >= 0):
        raise SettingsError(f"The budget ε must be a number ≥ 0 (got {eps}).", "8/255 ≈ 0.031 is a common L∞ budget.")
    if norm == "linf" and eps > 1:
        raise SettingsError(f"An L∞ budget of {eps:g} exceeds the whole pixel range [0, 1].", "Give ε in pixel units, e.g. 8/255 ≈ 0.031.")
    if steps < 1:
        raise SettingsError(f"steps must be at least 1 (got {steps}).")
    if target is None:
        return None
    resolved = as_target(target, m)
    if not isinstance(resolved, ClassScore):
        raise TargetError("An adversarial attack targets a class.", "Give a class index, or None for an untargeted attack.")
    return resolved.index


def _target_name(m: "LoadedModel", target: int | None) -> str:
    return "untargeted (away from the predicted class)" if target is None else f"class {target} '{m.class_names[target]}'"


def _attack(
    m: "LoadedModel",
    image: ImageLike,
    *,
    target: TargetLike | None,
    eps: float,
    norm: str,
    steps: int,
    step_size: float | None,
    stop_prob: float | None,
    method: str,
    on_step: OnStep | None,
) -> Adversarial:
    target = _check(m, eps, norm, steps, target)
    base01 = m.image01(image)
    probs_before = _probabilities(m, base01)
    label = int(np.argmax(probs_before))
    goal_class = label if target is None else target
    sign = -1.0 if target is None else 1.0  # the objective is ±log p(goal class)
    started = time.perf_counter()
    alpha = float(eps if step_size is None else step_size)
    scores: np.ndarray = np.zeros(0)
    dual_norm, steps_run = float("nan"), 0
    adversarial01, probs_after = base01, probs_before
    if eps > 0:
        if not alpha > 0:
            raise SettingsError(f"The step size must be positive (got {alpha}).")
        objective = away_from(label) if target is None else log_prob(target)
        param = SteepestPerturbation(base01, eps, norm)
        best: dict[str, Any] = {"score": -math.inf, "image01": param.render().detach()}
        reached = [False]
        # goal on the objective's scale: log p_t ≥ log(stop) (targeted), −log p_label ≥ −log(1 − stop)
        goal = None if stop_prob is None else (math.log(stop_prob) if target is not None else -math.log(max(1.0 - stop_prob, 1e-12)))

        def watch(state: StepState) -> bool:
            """Keep the best picture scored so far; stop once the goal is met."""
            if state.score > best["score"]:
                best.update(score=state.score, image01=state.image01)
            reached[0] = goal is not None and state.score >= goal
            return reached[0]

        result = optimize_image(
            m, objective, param, steps=steps, lr=alpha, optimizer="sgd", on_step=on_step, callbacks=[watch], preview_every=0, label=method.upper()
        )
        if result.stopped_early and not reached[0]:
            raise Cancelled()
        scores, steps_run = result.scores, len(result.scores)
        dual_norm = param.record.get("dual_norm", float("nan"))
        # the last update was never scored: keep whichever of it and the best scored picture is better
        # (FGSM is by definition its one step, even where that step happens to make things worse)
        with torch.no_grad():
            last = param.render().detach()
        candidates = [last] if method == "fgsm" else ([best["image01"]] if reached[0] else [best["image01"], last])
        pictures = [picture[0].permute(1, 2, 0).cpu().numpy() for picture in candidates]
        outcomes = [_probabilities(m, picture) for picture in pictures]
        pick = int(np.argmax([sign * np.log(max(p[goal_class], 1e-30)) for p in outcomes]))
        adversarial01, probs_after = pictures[pick].astype(np.float32), outcomes[pick]
    picture = np.rint(adversarial01 * 255.0).astype(np.uint8)
    probs_8bit = _probabilities(m, picture.astype(np.float32) / 255.0) if eps > 0 else probs_before
    predicted = int(np.argmax(probs_after))
    success = predicted != label if target is None else predicted == target
    report(on_step, 1.0, "done")
    seconds = time.perf_counter() - started
    return Adversarial(
        image=picture,
        final_image=picture,
        best_step=max(steps_run - 1, 0),
        stopped_early=steps_run < steps and eps > 0,
        original=np.rint(base01 * 255.0).astype(np.uint8),
        perturbation=(adversarial01 - base01).astype(np.float32),
        probs_before=probs_before,
        probs_after=probs_after,
        probs_8bit=probs_8bit,
        label=label,
        target_class=target,
        target=_target_name(m, target),
        method=method,
        norm=norm,
        eps=float(eps),
        step_size=alpha,
        scores=np.asarray(scores, dtype=np.float64),
        linear_gain=float(eps * dual_norm) if eps > 0 else 0.0,
        success=bool(success),
        seconds=seconds,
        metrics={"linf": float(np.abs(adversarial01 - base01).max(initial=0)), "success": float(success)},
        params={
            "method": method,
            "norm": norm,
            "eps": float(eps),
            "eps_grey_levels": float(eps * 255) if norm == "linf" else None,
            "step_size": alpha,
            "steps": steps,
            "stop_prob": stop_prob,
            "target": None if target is None else ClassScore(target).spec(),
            "model": m.name,
            "weights": m.weights,
        },
    )


def fgsm(m: "LoadedModel", image: ImageLike, target: TargetLike | None = None, *, eps: float = 2 / 255, norm: str = "linf", on_step: OnStep | None = None) -> Adversarial:
    """Fast gradient sign method (Goodfellow et al. 2014): one step of size ε along sign(∇ loss).

    Untargeted (raise the loss of the predicted class) unless `target` is given (raise log p_target).
    `eps` is in pixel units of [0, 1]. `result.linear_gain` = ε‖∇‖₁ is the linear prediction of
    how much the step raises the objective; compare it with the measured change.
    """
    return _attack(m, image, target=target, eps=eps, norm=norm, steps=1, step_size=None, stop_prob=None, method="fgsm", on_step=on_step)


def adversarial(
    m: "LoadedModel",
    image: ImageLike,
    target: TargetLike | None = None,
    *,
    eps: float = 8 / 255,
    norm: str = "linf",
    steps: int = 20,
    step_size: float | None = None,
    stop_prob: float | None = 0.99,
    on_step: OnStep | None = None,
) -> Adversarial:
    """Projected gradient attack (Madry et al. 2018) within an L∞ or L2 budget `eps` (pixel units).

    With `target` the picture is pushed to that class (maximise log p_target); without, away from
    the class predicted now. step_size defaults to ε/4. The run stops early once the target's
    probability (or 1 − the clean class's) reaches `stop_prob`; None runs every step.
    """
    alpha = eps / 4 if step_size is None else step_size
    return _attack(m, image, target=target, eps=eps, norm=norm, steps=steps, step_size=alpha, stop_prob=stop_prob, method="pgd", on_step=on_step)


def _sweep_images(images: Mapping[str, ImageLike] | Sequence[ImageLike] | None) -> dict[str, ImageLike]:
    if images is None:
        return {name: sample_image(name) for name in sample_names()[:SWEEP_IMAGES]}
    if isinstance(images, Mapping):
        chosen = dict(images)
    else:
        chosen = {f"image {i}": picture for i, picture in enumerate(images)}
    if not chosen:
        raise SettingsError("The sweep needs at least one image.")
    return chosen


def attack_sweep(
    m: "LoadedModel",
    images: Mapping[str, ImageLike] | Sequence[ImageLike] | None = None,
    target: TargetLike | None = None,
    *,
    epsilons: Sequence[float] = SWEEP_EPSILONS,
    norm: str = "linf",
    steps: int = 20,
    on_step: OnStep | None = None,
) -> AttackSweep:
    """Success of the projected gradient attack against the budget ε, over several images.

    images: name -> image (default: the first five sample photos). Success means the prediction
    becomes `target` (or leaves the clean class when untargeted). Each (image, ε) is its own run.
    """
    chosen = _sweep_images(images)
    goal = _check(m, 0.0, norm, steps, target)
    eps_values = np.asarray(sorted(float(e) for e in epsilons), dtype=np.float64)
    if eps_values.size == 0:
        raise SettingsError("The sweep needs at least one ε.")
    runs = len(chosen) * eps_values.size
    success = np.zeros((len(chosen), eps_values.size), dtype=bool)
    goal_prob = np.zeros_like(success, dtype=np.float64)
    predicted = np.zeros_like(success, dtype=np.int64)
    labels = np.zeros(len(chosen), dtype=np.int64)
    started = time.perf_counter()
    for i, (name, picture) in enumerate(chosen.items()):
        for j, eps in enumerate(eps_values):
            done = i * eps_values.size + j

            def inner(info: StepInfo, done: int = done, name: str = name, eps: float = float(eps)) -> None:
                report(on_step, (done + info.fraction) / runs, f"{name}, ε = {eps * 255:.3g}/255")

            result = adversarial(m, picture, target, eps=float(eps), norm=norm, steps=steps, on_step=inner)
            labels[i] = result.label
            success[i, j] = result.success
            predicted[i, j] = int(np.argmax(result.probs_after))
            goal_prob[i, j] = result.probs_after[result.target_class if result.target_class is not None else result.label]
    return AttackSweep(
        epsilons=eps_values,
        names=tuple(chosen),
        success=success,
        goal_prob=goal_prob,
        predicted=predicted,
        labels=labels,
        target_class=goal,
        target=_target_name(m, goal),
        norm=norm,
        steps=steps,
        seconds=time.perf_counter() - started,
        params={"norm": norm, "steps": steps, "target": None if goal is None else ClassScore(goal).spec(), "epsilons": eps_values.tolist(), "images": list(chosen), "model": m.name, "weights": m.weights},
    )
