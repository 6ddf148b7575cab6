"""The methods of CS231n lecture 9 as presets of `optimize_image`: objective + param + priors.

Each recipe returns a `Synthesis` whose `metrics` hold the check that says whether it worked
(a class model's probability, a neuron's activation, an inversion's code distance, DeepDream's
norm gain), measured on the returned picture exactly as the model sees it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ConvlensError, LayerError
from ..images import ImageLike
from ..layers import find_layer
from ..results import OnStep, StepInfo, Synthesis
from ..targets import ClassLogit, Unit
from . import objectives as O
from . import transforms as T
from .engine import make_generator, model_input, optimize_image, recording, reference_activations
from .params import Param, fourier, pixels

if TYPE_CHECKING:
    from ..hub import LoadedModel


def _picture01(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> 1x3xHxW float in [0, 1]."""
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)


def _forward(m: "LoadedModel", picture01: torch.Tensor, layers: Sequence[str] = ()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits and activations of an exact picture (no crop, resized only if its size differs)."""
    with torch.no_grad(), recording(m.model, layers) as store:
        logits = m.model(model_input(m, picture01.to(m.device)))
    return logits, dict(store)


def _shifted(picture01: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """The picture moved by (dy, dx) pixels, the uncovered border replicated (a "small random jitter")."""
    height, width = picture01.shape[-2:]
    padded = F.pad(picture01, (abs(dx),) * 2 + (abs(dy),) * 2, mode="replicate")
    top, left = abs(dy) - dy, abs(dx) - dx
    return padded[..., top : top + height, left : left + width]


def class_probability(m: "LoadedModel", image: np.ndarray, class_index: int, jitter_pixels: int = 4, seed: int = 0) -> dict[str, float]:
    """Probability of `class_index` on the picture, and its minimum over 4 random shifts of up to `jitter_pixels`."""
    picture = _picture01(image)
    probs = torch.softmax(_forward(m, picture)[0], dim=-1)[0]
    gen = torch.Generator().manual_seed(seed)
    shifted = []
    for _ in range(4):
        dy, dx = (int(v) for v in torch.randint(-jitter_pixels, jitter_pixels + 1, (2,), generator=gen))
        shifted.append(float(torch.softmax(_forward(m, _shifted(picture, dy, dx))[0], dim=-1)[0, class_index]))
    return {"probability": float(probs[class_index]), "probability_jittered": min(shifted), "top1": float(int(probs.argmax()))}


def _pixel_priors(l2_decay: float, blur_every: int, blur_sigma: float, clip_norm: float, clip_contribution: float) -> list[T.ImageStep]:
    steps: list[T.ImageStep] = []
    if l2_decay > 0:
        steps.append(T.decay(l2_decay))
    if blur_every > 0 and blur_sigma > 0:
        steps.append(T.blur_every(blur_every, blur_sigma))
    if clip_norm > 0:
        steps.append(T.clip_norm(clip_norm))
    if clip_contribution > 0:
        steps.append(T.clip_contribution(clip_contribution))
    return steps


def _param(kind: str, size: tuple[int, int], gen: torch.Generator) -> Param:
    if kind == "fourier":
        return fourier(size, generator=gen)
    if kind == "pixels":
        return pixels(size, sd=0.05, generator=gen)
    raise ConvlensError(f"Unknown parameterisation '{kind}'.", "Use 'fourier' or 'pixels'.")


def _robustness(jitter: int, rotate: float, scale: float) -> list[T.Transform]:
    """Shift, zoom and rotation as one resampling; a whole-pixel shift alone needs none."""
    if scale > 0 or rotate > 0:
        return [T.affine(shift=float(max(jitter, 0)), scale=scale, degrees=rotate)]
    return [T.shift(jitter)] if jitter > 0 else []


def _ascend(
    m: "LoadedModel",
    objective: O.Objective,
    label: str,
    *,
    steps: int,
    lr: float,
    param: str,
    jitter: int,
    rotate: float,
    scale: float,
    l2_decay: float,
    blur_every: int,
    blur_sigma: float,
    clip_norm: float,
    clip_contribution: float,
    seed: int,
    on_step: OnStep | None,
) -> tuple[Synthesis, dict[str, object]]:
    """The one ascent behind class models and neuron pictures: robustness transforms for every
    parameterisation, Yosinski's in-place priors for raw pixels. Returns the run and its settings."""
    gen = make_generator(seed)
    size = tuple(m.input_size[1:])
    priors = _pixel_priors(l2_decay, blur_every, blur_sigma, clip_norm, clip_contribution) if param == "pixels" else []
    result = optimize_image(
        m, objective, _param(param, size, gen), _robustness(jitter, rotate, scale),  # type: ignore[arg-type]
        steps=steps, lr=lr, generator=gen, on_step=on_step, image_steps=priors, label=label,
    )
    settings: dict[str, object] = dict(jitter=jitter, rotate=rotate, scale=scale, l2_decay=l2_decay, blur_every=blur_every, blur_sigma=blur_sigma,
                                       clip_norm=clip_norm, clip_contribution=clip_contribution, seed=seed)
    return result, settings


def class_model(
    m: "LoadedModel",
    class_index: int,
    *,
    steps: int = 128,
    lr: float = 0.05,
    param: str = "fourier",
    jitter: int = 8,
    rotate: float = 5.0,
    scale: float = 0.1,
    l2_decay: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clip_norm: float = 0.0,
    clip_contribution: float = 0.0,
    seed: int = 0,
    on_step: OnStep | None = None,
) -> Synthesis:
    """A picture the model takes for `class_index`: maximise its logit (Simonyan et al. 2014).

    Defaults: a decorrelated Fourier picture with jitter, scale and rotation robustness (Olah et
    al. 2017). `param="pixels"` with `l2_decay`, `blur_every`, `clip_norm`, `clip_contribution`
    gives the regularised pixel ascent of Simonyan et al. and Yosinski et al. 2015.
    """
    ClassLogit(int(class_index)).validate(m)
    result, settings = _ascend(
        m, O.class_logit(int(class_index)), "class model", steps=steps, lr=lr, param=param, jitter=jitter, rotate=rotate, scale=scale,
        l2_decay=l2_decay, blur_every=blur_every, blur_sigma=blur_sigma, clip_norm=clip_norm, clip_contribution=clip_contribution, seed=seed, on_step=on_step,
    )
    settings = dict(class_index=int(class_index), class_name=m.class_names[int(class_index)], **settings)
    return replace(result, params={**result.params, **settings}, metrics=class_probability(m, result.image, int(class_index)))


def channel_activation(m: "LoadedModel", image: np.ndarray | torch.Tensor, layer: str, channel: int) -> float:
    """Mean activation of one channel of `layer` on an exact picture (HxWx3 uint8 or 1x3xHxW in [0, 1])."""
    picture = _picture01(image) if isinstance(image, np.ndarray) else image
    logits, store = _forward(m, picture, [layer])
    probe = O.Probe(logits, store, picture, picture)
    return float(O.channel(layer, channel).score(probe)[0])


def sample_channel_mean(m: "LoadedModel", layer: str, channel: int) -> float:
    """Mean of `channel_activation` over the bundled sample photos: what "a lot" means for this channel."""
    from ..images import sample_image, sample_names

    values = [channel_activation(m, torch.from_numpy(m.image01(sample_image(name))).permute(2, 0, 1).unsqueeze(0), layer, channel) for name in sample_names()]
    return float(np.mean(values))


def neuron(
    m: "LoadedModel",
    layer: str,
    channel: int,
    *,
    y: int | None = None,
    x: int | None = None,
    steps: int = 128,
    lr: float = 0.05,
    param: str = "fourier",
    jitter: int = 8,
    rotate: float = 5.0,
    scale: float = 0.1,
    l2_decay: float = 0.0,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
    clip_norm: float = 0.0,
    clip_contribution: float = 0.0,
    seed: int = 0,
    on_step: OnStep | None = None,
) -> Synthesis:
    """What excites one channel of `layer` (its mean), or one unit at (y, x): same priors as `class_model`.

    Works on convolutional maps and ViT tokens alike (for tokens, the mean over patch tokens).
    """
    Unit(layer, int(channel), y, x).validate(m)
    objective = O.channel(layer, int(channel)) if y is None else O.neuron(layer, int(channel), y, x)
    result, settings = _ascend(
        m, objective, "neuron", steps=steps, lr=lr, param=param, jitter=jitter, rotate=rotate, scale=scale,
        l2_decay=l2_decay, blur_every=blur_every, blur_sigma=blur_sigma, clip_norm=clip_norm, clip_contribution=clip_contribution, seed=seed, on_step=on_step,
    )
    settings = dict(layer=layer, channel=int(channel), y=y, x=x, **settings)
    return replace(result, params={**result.params, **settings}, metrics={"activation": channel_activation(m, result.image, layer, int(channel))})


def _code_metrics(m: "LoadedModel", image: np.ndarray, layer: str, reference: torch.Tensor, original_top1: int) -> dict[str, float]:
    logits, store = _forward(m, _picture01(image), [layer])
    code = store[layer]
    distance = float((code - reference).norm() / reference.norm().clamp_min(1e-12))
    return {"relative_distance": distance, "top1": float(int(logits.argmax())), "original_top1": float(original_top1)}


def invert(
    m: "LoadedModel",
    image: ImageLike,
    layer: str | None = None,
    *,
    steps: int = 300,
    lr: float = 0.1,
    param: str = "fourier",
    tv_weight: float = 0.01,
    alpha_weight: float = 0.0,
    alpha: float = 6.0,
    jitter: int = 0,
    seed: int = 0,
    on_step: OnStep | None = None,
) -> Synthesis:
    """Feature inversion (Mahendran & Vedaldi 2015): a picture whose code at `layer` matches the image's.

    layer: a catalogue path, or None for the penultimate code (the classifier's input). The
    score is minus the relative squared code distance minus the total-variation and α-norm
    priors; what survives in the reconstruction is what the layer keeps of the image.
    """
    key = O.PENULTIMATE if layer is None else layer
    if layer is not None and find_layer(m.layers(), layer).layout == "none":
        raise LayerError(f"Layer '{layer}' produces no tensor to invert.", "Pick a layer with a map, tokens or a vector.")
    target01 = m.image01(image)
    reference = reference_activations(m, target01, [key])[key]
    original_top1 = int(_forward(m, _picture01((target01 * 255).round().astype(np.uint8)))[0].argmax())
    gen = make_generator(seed)
    size = tuple(m.input_size[1:])
    objective = O.feature_match(key, reference) - tv_weight * O.total_variation() - alpha_weight * O.alpha_norm(alpha)
    transforms = [T.shift(jitter)] if jitter > 0 else []
    result = optimize_image(m, objective, _param(param, size, gen), transforms, steps=steps, lr=lr, generator=gen, on_step=on_step, label="inversion")  # type: ignore[arg-type]
    settings = dict(layer=layer or "penultimate", tv_weight=tv_weight, alpha_weight=alpha_weight, alpha=alpha, jitter=jitter, seed=seed)
    return replace(result, params={**result.params, **settings}, metrics=_code_metrics(m, result.image, key, reference, original_top1))


def inversion_layers(m: "LoadedModel", count: int = 3) -> list[str]:
    """`count` stage outputs spread from shallow to deep (timm's feature_info where it exists)."""
    info = getattr(m.model, "feature_info", None)
    names: list[str] = []
    if info is not None:
        entries = info.get_dicts() if hasattr(info, "get_dicts") else list(info)
        names = [str(entry["module"]) for entry in entries if isinstance(entry, dict) and entry.get("module")]
    paths = {layer.path for layer in m.layers() if layer.layout != "none"}
    names = [name for name in names if name in paths]
    if not names:
        names = [layer.path for layer in m.layers() if layer.layout in ("map", "tokens") and layer.kind == "block"]
    if len(names) <= count:
        return names
    picks = np.linspace(0, len(names) - 1, count + 1)[1:]
    return [names[int(round(i))] for i in picks]


def invert_depths(
    m: "LoadedModel",
    image: ImageLike,
    layers: Sequence[str | None] | None = None,
    *,
    steps: int = 150,
    seed: int = 0,
    on_step: OnStep | None = None,
    **options: float,
) -> list[Synthesis]:
    """Reconstructions of one image from several depths (the lecture's slide): shallow codes keep
    the pixels, deep codes keep only what matters for the class. Default: three stages and the
    penultimate code."""
    chosen: list[str | None] = list(layers) if layers is not None else [*inversion_layers(m, 3), None]
    results = []
    for i, layer in enumerate(chosen):
        def scaled(info: StepInfo, _i: int = i) -> None:
            if on_step is not None:
                on_step(replace(info, fraction=(_i + info.fraction) / len(chosen), message=f"{layer or 'penultimate'}: {info.message}"))

        results.append(invert(m, image, layer, steps=steps, seed=seed, on_step=scaled, **options))  # type: ignore[arg-type]
    return results


def deepdream(
    m: "LoadedModel",
    image: ImageLike,
    layer: str,
    *,
    octaves: int = 3,
    octave_scale: float = 1.4,
    steps: int = 10,
    lr: float = 0.01,
    jitter: int = 8,
    seed: int = 0,
    on_step: OnStep | None = None,
) -> Synthesis:
    """DeepDream (Mordvintsev et al. 2015): amplify whatever `layer` already sees in the image.

    The score is half the mean squared activation, so its gradient is the activation itself;
    steps are normalised-gradient ascent on the pixels (lr in [0, 1] pixel units), repeated
    from a small copy of the image up to full size ("octaves"), carrying the added detail up.
    `steps` is per octave.
    """
    info = find_layer(m.layers(), layer)
    if info.layout not in ("map", "tokens"):
        raise LayerError(f"DeepDream needs a layer with a spatial map; '{layer}' has shape {info.shape}.", "Pick a convolutional block or a transformer block.")
    if octaves < 1 or octave_scale < 1:
        raise ConvlensError("Use at least one octave and an octave scale of at least 1.")
    base = torch.from_numpy(m.image01(image)).permute(2, 0, 1).unsqueeze(0)
    height, width = base.shape[-2:]
    fixed_size = hasattr(m.model, "patch_embed")  # ViTs only accept their own input size
    gen = make_generator(seed)
    detail = torch.zeros_like(base)
    scores: list[np.ndarray] = []
    seconds, stopped, result = 0.0, False, None
    for octave in range(octaves):
        factor = octave_scale ** (octaves - 1 - octave)
        size = (max(8, round(height / factor)), max(8, round(width / factor)))
        small = F.interpolate(base, size=size, mode="bilinear", align_corners=False) if factor != 1 else base
        detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        param = pixels(size, init=(small + detail).clamp(0, 1))

        def scaled(info: StepInfo, _o: int = octave) -> None:
            if on_step is not None:
                on_step(replace(info, fraction=(_o + info.fraction) / octaves, message=f"octave {_o + 1}/{octaves}: {info.message}"))

        result = optimize_image(
            m, O.layer_norm(layer), param, [T.shift(jitter)] if jitter > 0 else [], steps=steps, lr=lr, optimizer="sgd",
            generator=gen, on_step=scaled, normalize_grad=True, input_size=None if fixed_size else size, label="deepdream",
        )
        detail = param.pixels.detach() - small
        scores.append(result.scores)
        seconds += result.seconds
        if result.stopped_early:
            stopped = True
            break
    assert result is not None
    final = result.final_image
    norm_before = float(O.layer_norm(layer).score(_probe(m, base, layer)))
    norm_after = float(O.layer_norm(layer).score(_probe(m, _picture01(final), layer)))
    settings = dict(layer=layer, octaves=octaves, octave_scale=octave_scale, steps_per_octave=steps, jitter=jitter, seed=seed)
    return Synthesis(
        image=final, final_image=final, scores=np.concatenate(scores), best_step=len(np.concatenate(scores)) - 1,
        stopped_early=stopped, seconds=seconds, params={**result.params, **settings, "steps": steps * octaves},
        metrics={"norm_before": norm_before, "norm_after": norm_after},
    )


def _probe(m: "LoadedModel", picture01: torch.Tensor, layer: str) -> O.Probe:
    logits, store = _forward(m, picture01, [layer])
    return O.Probe(logits, store, picture01, picture01)
