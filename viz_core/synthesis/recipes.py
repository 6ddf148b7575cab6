"""The methods of CS231n lecture 9 as presets of `optimize_image`: objective + param + priors.

Each recipe takes its knobs as one settings dataclass (`settings.Ascent`, `Inversion`, `Dream`;
keyword overrides work too) and returns a `Synthesis` whose `metrics` hold the check that says
whether it worked (a class model's probability, a neuron's activation, an inversion's code
distance, DeepDream's norm gain), measured on the returned picture exactly as the model sees it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import LayerError, SettingsError, TargetError
from ..images import ImageLike, sample_image, sample_names
from ..layers import default_layer, find_layer, fixed_input_size, spread_stages
from ..results import OnStep, StepInfo, Synthesis
from ..targets import ClassScore, TargetLike, Unit, as_target, target_spec, unit
from . import objectives as O
from . import transforms as T
from .engine import make_generator, model_input, optimize_image, recording, reference_activations
from .params import Param, accent, fourier, image_tensor, maco, pixels
from .settings import Accent, Ascent, Dream, Inversion, as_params, configure

if TYPE_CHECKING:
    from ..hub import LoadedModel

INVERT_DEPTHS = Inversion(steps=150)  # four reconstructions in one go: shorter runs each


def _picture01(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> 1x3xHxW float in [0, 1]."""
    return image_tensor(np.asarray(image, dtype=np.float32) / 255.0)


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


def _pixel_priors(s: Ascent) -> list[T.ImageStep]:
    steps: list[T.ImageStep] = []
    if s.l2_decay > 0:
        steps.append(T.decay(s.l2_decay))
    if s.blur_every > 0 and s.blur_sigma > 0:
        steps.append(T.blur_every(s.blur_every, s.blur_sigma))
    if s.clip_norm > 0:
        steps.append(T.clip_norm(s.clip_norm))
    if s.clip_contribution > 0:
        steps.append(T.clip_contribution(s.clip_contribution))
    return steps


PARAMS = ("maco", "fourier", "pixels")


def _param(kind: str, size: tuple[int, int], gen: torch.Generator) -> Param:
    if kind == "maco":
        return maco(size, generator=gen)
    if kind == "fourier":
        return fourier(size, generator=gen)
    if kind == "pixels":
        return pixels(size, sd=0.05, generator=gen)
    raise SettingsError(f"Unknown parameterisation '{kind}'.", f"Use one of: {', '.join(PARAMS)}.")


def _robustness(jitter: int, rotate: float, scale: float) -> list[T.Transform]:
    """Shift, zoom and rotation as one resampling; a whole-pixel shift alone needs none."""
    if scale > 0 or rotate > 0:
        return [T.affine(shift=float(max(jitter, 0)), scale=scale, degrees=rotate)]
    return [T.shift(jitter)] if jitter > 0 else []


def _views(m: "LoadedModel", s: "Ascent | Accent") -> tuple[list[T.Transform], tuple[int, int]]:
    """The transforms and the size the model sees: random crops seen at `view_scale` of the
    input size when `crop_area` > 0 (each covering at least that fraction of the picture), else
    the shift, zoom and rotation of Olah et al. at the picture's own size."""
    size: tuple[int, int] = tuple(m.input_size[1:])  # type: ignore[assignment]
    if s.crop_area > 0:
        if not 0 < s.crop_area <= 1:
            raise SettingsError(f"The smallest crop must cover a fraction of the picture in (0, 1] (got {s.crop_area}).")
        if not 0.25 <= s.view_scale <= 2:
            raise SettingsError(f"view_scale must lie in [0.25, 2] (got {s.view_scale}).", "1 shows each crop at the model's input size.")
        seen = size if fixed_input_size(m.model) else tuple(max(8, 8 * round(side * s.view_scale / 8)) for side in size)
        return [T.crops(seen, (s.crop_area, 1.0), degrees=s.rotate, noise=s.noise)], seen  # type: ignore[return-value]
    return _robustness(s.jitter, s.rotate, s.scale), size


def _ascend(m: "LoadedModel", objective: O.Objective, label: str, s: Ascent, on_step: OnStep | None, param: Param | None = None, *, importance: bool = False) -> Synthesis:
    """The one ascent behind class models and neuron pictures: robustness transforms for every
    parameterisation, Yosinski's in-place priors for raw pixels."""
    gen = make_generator(s.seed)
    size = tuple(m.input_size[1:])
    transforms, seen = _views(m, s)
    return optimize_image(
        m, objective, param if param is not None else _param(s.param, size, gen), transforms,  # type: ignore[arg-type]
        steps=s.steps, lr=s.lr, seed=gen, on_step=on_step, image_steps=_pixel_priors(s) if s.param == "pixels" else [], label=label,
        batch=s.batch, schedule=s.schedule, input_size=seen, importance=importance or s.param == "maco",
    )


def class_model(m: "LoadedModel", target: TargetLike, settings: Ascent | None = None, *, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """A picture the model takes for a class: maximise its logit (Simonyan et al. 2014).

    `target`: a class index (its logit) or `class_prob(k)`. Defaults (`Ascent`): MACO's
    phase-only picture seen through a batch of random crops (Fel et al. 2023), which other
    networks recognise too; `Ascent.lucid()` the Olah et al. (2017) settings. `param="pixels"` with
    `l2_decay`, `blur_every`, `clip_norm`, `clip_contribution` gives the regularised pixel ascent
    of Simonyan et al. and Yosinski et al. 2015.
    """
    s = configure(Ascent, settings, overrides)
    goal = as_target(target, m)
    if not isinstance(goal, ClassScore):
        raise TargetError("A class model maximises a class score.", "For a unit of a layer use vc.neuron.")
    result = _ascend(m, O.target(goal), "class model", s, on_step)
    params = {**result.params, "settings": as_params(s), "target": target_spec(goal), "class_name": m.class_names[goal.index]}
    return replace(result, params=params, metrics=class_probability(m, result.image, goal.index))


def channel_activation(m: "LoadedModel", image: np.ndarray | torch.Tensor, layer: str, channel: int) -> float:
    """Mean activation of one channel of `layer` on an exact picture (HxWx3 uint8 or 1x3xHxW in [0, 1])."""
    picture = _picture01(image) if isinstance(image, np.ndarray) else image
    logits, store = _forward(m, picture, [layer])
    return float(as_target(unit(layer, channel), m).score(logits, store)[0])


def sample_channel_mean(m: "LoadedModel", layer: str, channel: int) -> float:
    """Mean of `channel_activation` over the bundled sample photos: what "a lot" means for this channel."""
    values = [channel_activation(m, image_tensor(m.image01(sample_image(name))), layer, channel) for name in sample_names()]
    return float(np.mean(values))


def neuron(m: "LoadedModel", target: Unit, settings: Ascent | None = None, *, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """What excites one channel (`unit(layer, channel)`: its mean) or one unit at (y, x) most:
    the same priors as `class_model`. Works on convolutional maps and ViT tokens alike."""
    s = configure(Ascent, settings, overrides)
    goal = as_target(target, m)
    if not isinstance(goal, Unit):
        raise TargetError("A neuron picture maximises a unit of a layer.", "Use vc.unit(layer, channel); for a class use vc.class_model.")
    result = _ascend(m, O.target(goal), "neuron", s, on_step)
    params = {**result.params, "settings": as_params(s), "target": target_spec(goal)}
    return replace(result, params=params, metrics={"activation": channel_activation(m, result.image, goal.layer, goal.channel)})


def accentuate(m: "LoadedModel", image: ImageLike, target: TargetLike, settings: Accent | None = None, *, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """Feature accentuation (Hamblin, Fel, Saha, Konkle & Alvarez 2024): the image, changed as
    little as it takes to show what a class or a unit responds to *in it*.

    Maximises the target minus `similarity_weight` × the relative feature distance to the
    image at `similarity_layer`, over a smooth change whose RMS stays within `budget`
    (`params.accent`), seen through random crops. metrics: the target's score before and after,
    the RMS change and, for a class, its probability before and after.
    """
    s = configure(Accent, settings, overrides)
    goal = as_target(target, m)
    if not isinstance(goal, (ClassScore, Unit)):
        raise TargetError("Accentuation raises a class score or a unit.", "Use a class index or vc.unit(layer, channel).")
    base01 = m.image01(image)
    layer = (s.similarity_layer or _middle_layer(m)) if s.similarity_weight > 0 else None
    objective = O.target(goal)
    if layer is not None:
        objective = objective + s.similarity_weight * O.feature_match(layer, reference_activations(m, base01, [layer])[layer])  # minus the distance
    gen = make_generator(s.seed)
    param = accent(base01, s.budget, generator=gen)
    transforms, seen = _views(m, s)
    result = optimize_image(m, objective, param, transforms, steps=s.steps, lr=s.lr, seed=gen, on_step=on_step, batch=s.batch, schedule=s.schedule, input_size=seen, label="accentuation")
    before, after = _picture01(np.rint(base01 * 255).astype(np.uint8)), _picture01(result.image)
    metrics = {"score_before": _score(m, goal, before), "score_after": _score(m, goal, after), "rms_change": float((after - before).pow(2).mean().sqrt())}
    if isinstance(goal, ClassScore):
        metrics |= {"probability_before": _probability(m, before, goal.index), "probability_after": _probability(m, after, goal.index)}
    params = {**result.params, "settings": as_params(s), "target": target_spec(goal), "similarity_layer": layer}
    if isinstance(goal, ClassScore):
        params["class_name"] = m.class_names[goal.index]
    return replace(result, params=params, metrics=metrics, images=np.stack([np.rint(base01 * 255).astype(np.uint8), result.image]))


def _middle_layer(m: "LoadedModel") -> str:
    """The model's default neuron layer, or its penultimate code when it has no such block."""
    try:
        return default_layer(m, "neuron")
    except LayerError:
        return O.PENULTIMATE


def _score(m: "LoadedModel", goal: "ClassScore | Unit", picture01: torch.Tensor) -> float:
    logits, store = _forward(m, picture01, goal.layers())
    return float(goal.score(logits, store)[0])


def _probability(m: "LoadedModel", picture01: torch.Tensor, index: int) -> float:
    return float(torch.softmax(_forward(m, picture01)[0], dim=-1)[0, index])


def diverse(m: "LoadedModel", target: TargetLike, count: int = 4, weight: float = 1.0, settings: Ascent | None = None, *, layer: str | None = None, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """`count` pictures of one unit or class at once, pushed apart by a diversity term (Olah et
    al. 2017): the mean target score minus `weight` × each picture's summed Gram-matrix cosine
    similarity to the others at `layer` (default: the unit's own layer; for a class, the model's
    default neuron layer). Shows units that respond to more than one thing.

    result.images: (count, H, W, 3); result.image: the first. metrics: the target per picture
    and the mean pairwise Gram cosine similarity (1 = same style, lower = more diverse).
    """
    s = configure(Ascent, settings, overrides)
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= 8:
        raise SettingsError(f"Make between 2 and 8 pictures at once (got {count!r}).")
    goal = as_target(target, m)
    if not isinstance(goal, (ClassScore, Unit)):
        raise TargetError("Diversity needs a class score or a unit.", "Use a class index or vc.unit(layer, channel).")
    where = layer or (goal.layer if isinstance(goal, Unit) else default_layer(m, "neuron"))
    objective = O.target(goal) + weight * O.diversity(where)
    gen = make_generator(s.seed)
    size = tuple(m.input_size[1:])
    if s.param == "pixels":
        raise SettingsError("Diversity runs on the Fourier or MACO parameterisations.", "Use param='maco' or 'fourier'.")
    param = maco(size, generator=gen, count=count) if s.param == "maco" else fourier(size, generator=gen, count=count)  # type: ignore[arg-type]
    result = _ascend(m, objective, "diversity", replace(s, batch=1), on_step, param)
    with torch.no_grad():
        pictures = (param.render().clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    scores = [_score(m, goal, _picture01(picture)) for picture in pictures]
    logits, store = _forward(m, torch.stack([_picture01(p)[0] for p in pictures]), [where])
    grams = O.gram(store[where]).flatten(1)
    grams = grams / grams.norm(dim=1, keepdim=True)
    similarity = grams @ grams.T
    mean_similarity = float((similarity.sum() - similarity.diagonal().sum()) / (count * (count - 1)))
    metrics = {**{f"score_{i}": v for i, v in enumerate(scores)}, "score_mean": float(np.mean(scores)), "gram_similarity": mean_similarity}
    params = {**result.params, "settings": as_params(s), "target": target_spec(goal), "count": count, "diversity_weight": weight, "diversity_layer": where}
    return replace(result, image=pictures[0], final_image=pictures[0], images=pictures, params=params, metrics=metrics)


def _code_metrics(m: "LoadedModel", image: np.ndarray, layer: str, reference: torch.Tensor, original_top1: int) -> dict[str, float]:
    logits, store = _forward(m, _picture01(image), [layer])
    code = store[layer]
    distance = float((code - reference).norm() / reference.norm().clamp_min(1e-12))
    if not m.num_classes:  # no classifier head: the output is a feature vector, its argmax no class
        return {"relative_distance": distance}
    return {"relative_distance": distance, "top1": float(int(logits.argmax())), "original_top1": float(original_top1)}


def invert(m: "LoadedModel", image: ImageLike, layer: str | None = None, settings: Inversion | None = None, *, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """Feature inversion (Mahendran & Vedaldi 2015): a picture whose code at `layer` matches the image's.

    layer: a catalogue path, or None for the penultimate code (the classifier's input). The
    score is minus the relative squared code distance minus the total-variation and α-norm
    priors; what survives in the reconstruction is what the layer keeps of the image.
    """
    s = configure(Inversion, settings, overrides)
    key = O.PENULTIMATE if layer is None else layer
    if layer is not None and find_layer(m.layers(), layer).layout == "none":
        raise LayerError(f"Layer '{layer}' produces no tensor to invert.", "Pick a layer with a map, tokens or a vector.")
    target01 = m.image01(image)
    reference = reference_activations(m, target01, [key])[key]
    original_top1 = int(_forward(m, _picture01((target01 * 255).round().astype(np.uint8)))[0].argmax())
    gen = make_generator(s.seed)
    size = tuple(m.input_size[1:])
    objective = O.feature_match(key, reference) - s.tv_weight * O.total_variation() - s.alpha_weight * O.alpha_norm(s.alpha)
    transforms = [T.shift(s.jitter)] if s.jitter > 0 else []
    result = optimize_image(m, objective, _param(s.param, size, gen), transforms, steps=s.steps, lr=s.lr, seed=gen, on_step=on_step, label="inversion")  # type: ignore[arg-type]
    params = {**result.params, "settings": as_params(s), "layer": layer or "penultimate"}
    return replace(result, params=params, metrics=_code_metrics(m, result.image, key, reference, original_top1))


def invert_depths(
    m: "LoadedModel",
    image: ImageLike,
    layers: Sequence[str | None] | None = None,
    settings: Inversion | None = None,
    *,
    on_step: OnStep | None = None,
    **overrides: Any,
) -> list[Synthesis]:
    """Reconstructions of one image from several depths (the lecture's slide): shallow codes keep
    the pixels, deep codes keep only what matters for the class. Default: three stages and the
    penultimate code, 150 steps each."""
    s = configure(Inversion, INVERT_DEPTHS if settings is None else settings, overrides)
    chosen: list[str | None] = list(layers) if layers is not None else [*spread_stages(m, 3), None]
    results = []
    for i, layer in enumerate(chosen):
        def scaled(info: StepInfo, _i: int = i) -> None:
            if on_step is not None:
                on_step(replace(info, fraction=(_i + info.fraction) / len(chosen), message=f"{layer or 'penultimate'}: {info.message}"))

        results.append(invert(m, image, layer, s, on_step=scaled))
    return results


def deepdream(m: "LoadedModel", image: ImageLike, layer: str | None = None, settings: Dream | None = None, *, on_step: OnStep | None = None, **overrides: Any) -> Synthesis:
    """DeepDream (Mordvintsev et al. 2015): amplify whatever `layer` already sees in the image.

    The score is half the mean squared activation, so its gradient is the activation itself;
    steps are normalised-gradient ascent on the pixels (lr in [0, 1] pixel units), repeated
    from a small copy of the image up to full size ("octaves"), carrying the added detail up.
    `steps` is per octave; layer None: the model's default DeepDream layer.
    """
    s = configure(Dream, settings, overrides)
    layer = layer or default_layer(m, "deepdream")
    info = find_layer(m.layers(), layer)
    if info.layout not in ("map", "tokens"):
        raise LayerError(f"DeepDream needs a layer with a spatial map; '{layer}' has shape {info.shape}.", "Pick a convolutional block or a transformer block.")
    if s.octaves < 1 or s.octave_scale < 1:
        raise SettingsError("Use at least one octave and an octave scale of at least 1.")
    base = image_tensor(m.image01(image))
    height, width = base.shape[-2:]
    fixed_size = fixed_input_size(m.model)
    gen = make_generator(s.seed)
    detail = torch.zeros_like(base)
    scores: list[np.ndarray] = []
    seconds, stopped, result = 0.0, False, None
    for octave in range(s.octaves):
        factor = s.octave_scale ** (s.octaves - 1 - octave)
        size = (max(8, round(height / factor)), max(8, round(width / factor)))
        small = F.interpolate(base, size=size, mode="bilinear", align_corners=False) if factor != 1 else base
        detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        param = pixels(size, init=(small + detail).clamp(0, 1))

        def scaled(step: StepInfo, _o: int = octave) -> None:
            if on_step is not None:
                on_step(replace(step, fraction=(_o + step.fraction) / s.octaves, message=f"octave {_o + 1}/{s.octaves}: {step.message}"))

        result = optimize_image(
            m, O.layer_norm(layer), param, [T.shift(s.jitter)] if s.jitter > 0 else [], steps=s.steps, lr=s.lr, optimizer="sgd",
            seed=gen, on_step=scaled, normalize_grad=True, input_size=None if fixed_size else size, label="deepdream",
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
    all_scores = np.concatenate(scores)
    return Synthesis(
        image=final, final_image=final, scores=all_scores, best_step=len(all_scores) - 1,
        stopped_early=stopped, seconds=seconds, params={**result.params, "settings": as_params(s), "layer": layer, "steps": s.steps * s.octaves},
        metrics={"norm_before": norm_before, "norm_after": norm_after},
    )


def _probe(m: "LoadedModel", picture01: torch.Tensor, layer: str) -> O.Probe:
    logits, store = _forward(m, picture01, [layer])
    return O.Probe(logits, store, picture01, picture01)
