"""`optimize_image`: the one loop behind class models, neuron pictures, inversion, DeepDream, style
and adversarial images.

Why one loop: these methods differ only in the objective, the parameterisation and the priors
(CS231n lecture 9). Each step is one forward with the activations captured (graph kept), one
`torch.autograd.grad` to the picture's own tensors, and one optimiser update. The model's
weights never receive a gradient, no `.backward()` runs, and every hook is removed on exit, also
on errors and on early stops.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConvlensError, LayerError
from ..hooks import first_tensor, on_forward, resolve_module
from ..results import Cancelled, OnStep, Synthesis, report
from .objectives import PENULTIMATE, Objective, Probe
from .params import Param, Pixels, fourier
from .transforms import ImageStep, Transform

if TYPE_CHECKING:
    from ..hub import LoadedModel

OPTIMIZERS = ("adam", "sgd", "lbfgs")


def make_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A private CPU generator (never the global RNG): seed 0 when none is given."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(0 if seed is None else int(seed))


def classifier_path(model: nn.Module) -> str:
    """Dot path of the final classifier, whose *input* is the penultimate code."""
    getter = getattr(model, "get_classifier", None)
    head = getter() if callable(getter) else None
    if isinstance(head, nn.Module):
        for name, module in model.named_modules():
            if module is head and name:
                return name
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if linears:
        return linears[-1]
    raise LayerError("This model has no final linear classifier, so it has no penultimate code.", "Pick a named layer instead.")


@contextmanager
def recording(model: nn.Module, layers: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the named layers' outputs (graph kept) during forwards inside the block.

    `PENULTIMATE` records the classifier's *input* instead. Built on `hooks.on_forward`, so the
    model's lock is held and the hooks are thread-gated and removed in `finally`.
    """
    store: dict[str, torch.Tensor] = {}
    wanted = list(dict.fromkeys(layers))
    head = classifier_path(model) if PENULTIMATE in wanted else None
    paths = [head if name == PENULTIMATE else name for name in wanted]
    for path in paths:
        resolve_module(model, path)  # clear error with suggestions before anything runs

    def record(name: str, _module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if name == head:
            tensor = first_tensor(args)
            if tensor is not None:
                store[PENULTIMATE] = tensor.flatten(1)
        if name in wanted:
            tensor = first_tensor(output)
            if tensor is not None:
                store[name] = tensor
        return None

    with on_forward(model, list(dict.fromkeys(paths)), record):
        yield store


def model_input(m: "LoadedModel", image01: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    """A Bx3xHxW picture in [0, 1] -> the normalised tensor at `size` (default: the model's input size)."""
    height, width = size if size is not None else m.input_size[1:]
    if tuple(image01.shape[-2:]) != (height, width):
        image01 = F.interpolate(image01, size=(height, width), mode="bilinear", align_corners=False)
    return m.preprocessing.to_tensor(image01)


def reference_activations(m: "LoadedModel", image01: np.ndarray | torch.Tensor, layers: Sequence[str], size: tuple[int, int] | None = None) -> dict[str, torch.Tensor]:
    """Activations (detached) of a reference picture, HxWx3 in [0, 1]: the targets of feature and Gram matches."""
    from .params import _as_image_tensor

    x = model_input(m, _as_image_tensor(image01).to(m.device), size)
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
    raise ConvlensError(f"Unknown optimiser '{name}'.", f"Use one of: {', '.join(OPTIMIZERS)}.")


def optimize_image(
    m: "LoadedModel",
    objective: Objective,
    param: Param | None = None,
    transforms: Sequence[Transform] = (),
    steps: int = 256,
    lr: float = 0.05,
    optimizer: str = "adam",
    generator: int | torch.Generator | None = None,
    on_step: OnStep | None = None,
    *,
    image_steps: Sequence[ImageStep] = (),
    normalize_grad: bool = False,
    input_size: tuple[int, int] | None = None,
    preview_every: int = 8,
    label: str = "",
) -> Synthesis:
    """Maximise `objective` over the picture that `param` renders; returns the best picture seen.

    param: default a decorrelated Fourier picture at the model's input size. transforms: random
    callables applied before each forward (jitter, scale, rotate, pad, blur), drawn from
    `generator`. image_steps: in-place regularisers between steps (pixel params only).
    normalize_grad: divide each gradient by its mean magnitude (DeepDream's step rule).
    on_step: gets a `StepInfo` every step (score; the current picture every `preview_every`
    steps); raising `Cancelled` stops the run and the best picture so far is returned.
    """
    if steps < 1:
        raise ConvlensError(f"steps must be at least 1 (got {steps}).")
    if not lr > 0:
        raise ConvlensError(f"The learning rate must be positive (got {lr}).")
    gen = make_generator(generator)
    size = tuple(m.input_size[1:]) if input_size is None else tuple(input_size)
    if param is None:
        param = fourier(size, generator=gen)  # type: ignore[arg-type]
    if image_steps and not isinstance(param, Pixels):
        raise ConvlensError("Blur-every-k, decay and clipping regularisers act on raw pixels only.", "Use a pixels() parameterisation, or drop the image_steps.")
    tensors = param.tensors()
    opt = _optimizer(optimizer, tensors, lr)
    scores: list[float] = []
    best_score, best_step, best_image = -float("inf"), -1, None
    last_image: torch.Tensor | None = None
    stopped = False
    started = time.perf_counter()

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        image01 = param.render().to(m.device)
        shown = image01
        for transform in transforms:
            shown = transform(shown, gen)
        x = model_input(m, shown, size)  # type: ignore[arg-type]
        store.clear()
        logits = m.model(x)
        probe = Probe(logits, store, image01, x)
        return objective.score(probe).mean(), image01

    with recording(m.model, objective.layers) as store:
        step = 0
        try:
            for step in range(steps):
                holder: dict[str, Any] = {}

                def closure() -> torch.Tensor:
                    score, image01 = evaluate()
                    grads = torch.autograd.grad(score, tensors, allow_unused=True)
                    for tensor, grad in zip(tensors, grads):
                        grad = torch.zeros_like(tensor) if grad is None else grad
                        if normalize_grad:
                            grad = grad / (grad.abs().mean() + 1e-8)
                        tensor.grad = -grad  # our own leaf tensors; the optimiser minimises
                    holder.setdefault("score", float(score.detach()))
                    holder.setdefault("image", image01.detach())
                    return -score.detach()

                if optimizer == "lbfgs":
                    opt.step(closure)
                else:
                    closure()
                    opt.step()
                score, image01 = holder["score"], holder["image"]
                if not np.isfinite(score):
                    raise ConvlensError("The score became infinite or NaN; the learning rate is too high for this model.", "Lower the learning rate.")
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
        "normalize_grad": normalize_grad,
        "input_size": list(size),
        "model": m.name,
        "weights": m.weights,
    }
    if isinstance(generator, int):
        params["seed"] = generator
    return Synthesis(
        image=_to_uint8(best_image),
        final_image=_to_uint8(final if last_image is not None else best_image),
        scores=np.asarray(scores, dtype=np.float64),
        best_step=best_step,
        stopped_early=stopped,
        seconds=time.perf_counter() - started,
        params=params,
        metrics={},
    )
