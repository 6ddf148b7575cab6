"""`optimize_image`: the one loop behind class models, neuron pictures, inversion, DeepDream, style
and adversarial images.

Why one loop: these methods differ only in the objective, the parameterisation and the priors
(CS231n lecture 9). Each step is one forward with the activations captured (graph kept), one
`torch.autograd.grad` to the picture's own tensors, and one optimiser update. The model's
weights never receive a gradient, no `.backward()` runs, and every hook is removed on exit, also
on errors and on early stops.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import LayerError, SettingsError
from ..hooks import first_tensor, on_forward, resolve_module
from ..layers import classifier_paths
from ..results import Cancelled, OnStep, Synthesis, report
from .objectives import PENULTIMATE, Objective, Probe
from .params import Param, Pixels, fourier, image_tensor
from .transforms import ImageStep, Transform

if TYPE_CHECKING:
    from ..hub import LoadedModel

OPTIMIZERS = ("adam", "sgd", "lbfgs")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class StepState:
    """What a step callback sees after each step.

    step: 0-based; score: the objective of the picture this step evaluated; image01: that picture
    (1x3xHxW in [0, 1], detached); param: the parameterisation *after* the update; probes: the
    values of the `probes` objectives on this step's forward (no extra forward is run).
    """

    step: int
    score: float
    image01: torch.Tensor
    param: Param
    probes: Mapping[str, float]


# A step callback returns True to stop the run (the result is then `stopped_early`).
StepCallback = Callable[[StepState], "bool | None"]


def make_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A private CPU generator (never the global RNG): seed 0 when none is given."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(0 if seed is None else int(seed))


@contextmanager
def recording(model: nn.Module, layers: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the named layers' outputs (graph kept) during forwards inside the block.

    `PENULTIMATE` records the classifier's *input* instead (the inputs of all its heads, joined,
    for models with several: `layers.classifier_paths`). Built on `hooks.on_forward`, so the
    model's lock is held and the hooks are thread-gated and removed in `finally`.
    """
    store: dict[str, torch.Tensor] = {}
    wanted = list(dict.fromkeys(layers))
    heads = classifier_paths(model) if PENULTIMATE in wanted else ()
    paths = [name for name in wanted if name != PENULTIMATE] + list(heads)
    for path in paths:
        resolve_module(model, path)  # clear error with suggestions before anything runs
    parts: dict[str, torch.Tensor] = {}

    def record(name: str, _module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if name in heads:
            tensor = first_tensor(args)
            if tensor is not None:
                parts[name] = tensor.flatten(1)
                if len(parts) == len(heads):  # heads fed the same vector (LeViT) count once
                    unique = list({(p.data_ptr(), p.shape): p for p in (parts[h] for h in heads)}.values())
                    store[PENULTIMATE] = unique[0] if len(unique) == 1 else torch.cat(unique, dim=1)
                    parts.clear()
        if name in wanted:
            tensor = first_tensor(output)
            if tensor is not None:
                store[name] = tensor
        return None

    with on_forward(model, list(dict.fromkeys(paths)), record):
        yield store
    if heads and PENULTIMATE not in store:
        raise LayerError(
            f"The classifier ({', '.join(heads)}) did not run on its input during the forward, so convlens cannot read the penultimate code of this model.",
            "Pick a named layer instead (e.g. the last block or the final norm).",
        )


def model_input(m: "LoadedModel", image01: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A Bx3xHxW picture in [0, 1] -> the normalised tensor at `size` (default: the model's input size)."""
    height, width = size if size is not None else m.input_size[1:]
    if tuple(image01.shape[-2:]) != (height, width):
        image01 = F.interpolate(image01, size=(height, width), mode="bilinear", align_corners=False)
    return m.preprocessing.to_tensor(image01)


def reference_activations(m: "LoadedModel", image01: np.ndarray | torch.Tensor, layers: Sequence[str], size: tuple[int, int] | None = None) -> dict[str, torch.Tensor]:
    """Activations (detached) of a reference picture, HxWx3 in [0, 1]: the targets of feature and Gram matches."""
    x = model_input(m, image_tensor(image01).to(m.device), size)
    with torch.no_grad(), recording(m.model, layers) as store:
        m.model(x)
    return {name: value.detach().clone() for name, value in store.items()}


def _to_uint8(image01: torch.Tensor) -> np.ndarray:
    picture = image01.detach()[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return (picture * 255.0).round().astype(np.uint8)


def _optimizer(name: str, tensors: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(tensors, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(tensors, lr=lr)
    if name == "lbfgs":
        # one function evaluation per engine step, so a "step" costs the same for every optimiser
        return torch.optim.LBFGS(tensors, lr=lr, max_iter=1, history_size=10)
    raise SettingsError(f"Unknown optimiser '{name}'.", f"Use one of: {', '.join(OPTIMIZERS)}.")


def optimize_image(
    m: "LoadedModel",
    objective: Objective,
    param: Param | None = None,
    transforms: Sequence[Transform] = (),
    *,
    steps: int = 256,
    lr: float = 0.05,
    optimizer: str = "adam",
    seed: int | torch.Generator = 0,
    on_step: OnStep | None = None,
    callbacks: Sequence[StepCallback] = (),
    probes: Mapping[str, Objective] | None = None,
    image_steps: Sequence[ImageStep] = (),
    normalize_grad: bool = False,
    input_size: tuple[int, int] | None = None,
    preview_every: int = 8,
    label: str = "",
    batch: int = 1,
    schedule: str = "constant",
    importance: bool = False,
) -> Synthesis:
    """Maximise `objective` over the picture that `param` renders; returns the best picture seen.

    param: default a decorrelated Fourier picture at the model's input size. transforms: random
    callables applied before each forward (shift, affine), drawn from `seed`. image_steps:
    in-place regularisers between steps (pixel params only). normalize_grad: divide each
    gradient by its mean magnitude (DeepDream's step rule). on_step: progress (`StepInfo`, the
    current picture every `preview_every` steps); raising `Cancelled` there stops the run.
    callbacks: see a `StepState` after every step (with the `probes` objectives' values) and
    stop the run by returning True — how attacks stop at their goal and style transfer records
    its loss curves.

    batch: the picture is seen B times per step, each copy through its own draw of the
    transforms (random crops, say), and the objective is their mean: one forward of a batch
    instead of B forwards. schedule: "constant" or "cosine" (the learning rate decays to 0 by the
    last step, so late steps refine rather than wander). importance: also accumulate
    |∂score/∂picture| over the steps (summed over colours, max 1) into `result.importance`:
    where the objective looks (MACO's importance map, Fel et al. 2023), at no extra pass.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise SettingsError(f"steps must be a whole number of at least 1 (got {steps!r}).")
    if not lr > 0:
        raise SettingsError(f"The learning rate must be positive (got {lr}).")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SettingsError(f"The batch of views must be a whole number of at least 1 (got {batch!r}).")
    if schedule not in SCHEDULES:
        raise SettingsError(f"Unknown learning-rate schedule '{schedule}'.", f"Use one of: {', '.join(SCHEDULES)}.")
    gen = make_generator(seed)
    size = tuple(m.input_size[1:]) if input_size is None else tuple(input_size)
    if param is None:
        param = fourier(size, generator=gen)  # type: ignore[arg-type]
    if image_steps and not isinstance(param, Pixels):
        raise SettingsError("Blur-every-k, decay and clipping regularisers act on raw pixels only.", "Use a pixels() parameterisation, or drop the image_steps.")
    watched = dict(probes or {})
    layers = tuple(dict.fromkeys([*objective.layers, *(name for term in watched.values() for name in term.layers)]))
    tensors = param.tensors()
    opt = _optimizer(optimizer, tensors, lr)
    scores: list[float] = []
    best_score, best_step, best_image = -float("inf"), -1, None
    last_image: torch.Tensor | None = None
    stopped = False
    started = time.perf_counter()

    saliency: torch.Tensor | None = None

    def evaluate() -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        image01 = param.render().to(m.device)
        shown = image01 if batch == 1 else image01.repeat(batch, 1, 1, 1)
        for transform in transforms:
            shown = transform(shown, gen)
        x = model_input(m, shown, size)  # type: ignore[arg-type]
        store.clear()
        logits = m.model(x)
        probe = Probe(logits, store, image01, x)
        score = objective.score(probe).mean()
        return score, image01, {name: float(term.score(probe).detach().mean()) for name, term in watched.items()}

    with recording(m.model, layers) as store:
        step = 0
        try:
            for step in range(steps):
                holder: dict[str, Any] = {}

                if schedule == "cosine":
                    for group in opt.param_groups:
                        group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))

                def closure() -> torch.Tensor:
                    nonlocal saliency
                    score, image01, values = evaluate()
                    wrt = [*tensors, image01] if importance else tensors
                    grads = list(torch.autograd.grad(score, wrt, allow_unused=True))
                    if importance:
                        seen = grads.pop()
                        if seen is not None:
                            seen = seen.detach().abs().sum(dim=1)[0]
                            saliency = seen if saliency is None else saliency + seen
                    for tensor, grad in zip(tensors, grads):
                        grad = torch.zeros_like(tensor) if grad is None else grad
                        if normalize_grad:
                            grad = grad / (grad.abs().mean() + 1e-8)
                        tensor.grad = -grad  # our own leaf tensors; the optimiser minimises
                    holder.setdefault("score", float(score.detach()))
                    holder.setdefault("image", image01.detach())
                    holder.setdefault("probes", values)
                    return -score.detach()

                if optimizer == "lbfgs":
                    opt.step(closure)
                else:
                    closure()
                    opt.step()
                score, image01 = holder["score"], holder["image"]
                if not np.isfinite(score):
                    raise SettingsError("The score became infinite or NaN; the learning rate is too high for this model.", "Lower the learning rate.")
                scores.append(score)
                last_image = image01
                if score > best_score:
                    best_score, best_step, best_image = score, step, image01
                with torch.no_grad():
                    param.project()
                    if image_steps:
                        pixel_grad = -tensors[0].grad if tensors[0].grad is not None else torch.zeros_like(tensors[0])
                        for regulariser in image_steps:
                            regulariser(tensors[0], pixel_grad, step)
                        param.project()
                for tensor in tensors:
                    tensor.grad = None
                preview = _to_uint8(image01) if preview_every > 0 and (step % preview_every == 0 or step == steps - 1) else None
                report(on_step, (step + 1) / steps, f"{label or 'step'} {step + 1}/{steps}", step=step, score=score, image=preview)
                state = StepState(step, score, image01, param, holder["probes"])
                if any([bool(callback(state)) for callback in callbacks]):  # every callback sees every step
                    stopped = True
                    break
        except Cancelled:
            stopped = True
        finally:
            for tensor in tensors:
                tensor.grad = None
    with torch.no_grad():
        final = param.render().detach()
    if best_image is None:  # cancelled before the first step finished
        best_image = final
    params = {
        "objective": objective.name,
        **param.describe(),
        "transforms": len(transforms),
        "image_steps": len(image_steps),
        "steps": steps,
        "lr": lr,
        "optimizer": optimizer,
        "batch": batch,
        "schedule": schedule,
        "normalize_grad": normalize_grad,
        "input_size": list(size),
        "model": m.name,
        "weights": m.weights,
    }
    if isinstance(seed, int):
        params["seed"] = seed
    return Synthesis(
        image=_to_uint8(best_image),
        final_image=_to_uint8(final if last_image is not None else best_image),
        scores=np.asarray(scores, dtype=np.float64),
        best_step=best_step,
        stopped_early=stopped,
        seconds=time.perf_counter() - started,
        params=params,
        importance=None if saliency is None else (saliency / saliency.max().clamp_min(1e-12)).cpu().numpy().astype(np.float32),
    )
