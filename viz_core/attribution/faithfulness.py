"""Deletion and insertion (Petsiuk et al., 2018): does the order a map gives matter to the model?

A map claims which pixels carry the evidence. Deletion takes it at its word: replace the pixels
(or small patches) it ranks first by a baseline, step by step, and watch the target's
probability; a faithful map makes it fall fast (small area under the curve). Insertion starts
from a blurred copy and reveals the pixels in the same order; a faithful map makes the
probability rise fast (large area). A random order is the floor every map must beat.

Why one switching function for both: each curve point is "pixels ranked below k come from one
picture, the others from another" (deletion: image -> baseline; insertion: blurred -> image), so
every point of every curve is an independent picture, built from a rank map and batched into
plain inference forwards, 32 at a time.

`method_maps` computes every map of the Saliency & backprop page (and occlusion) the way that
page shows it; the sanity checks (`sanity.py`) reuse it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..errors import ConvlensError, DatasetError, SettingsError
from ..hub import LoadedModel
from ..images import gaussian_blur
from ..layers import default_layer
from ..results import Faithfulness, FaithfulnessSummary, OnStep, StepInfo, report
from ..store import Store, entry_key, weights_digest
from ..targets import ClassScore, Target, TargetLike, as_target, class_prob, target_spec
from .backprop import gradients
from .common import ImageInput, PassResult, as_input, check_int, scores
from .gradcam import grad_cam
from .occlusion import occlusion, positions
from .smoothing import integrated_gradients, smoothgrad

if TYPE_CHECKING:
    from ..dataset import Collection

METHODS = (
    "vanilla", "guided", "deconvnet", "saliency", "grad_cam", "guided_grad_cam",
    "smoothgrad", "gradient_x_input", "integrated_gradients", "occlusion",
)
LABELS = {
    "vanilla": "vanilla gradient", "guided": "guided backprop", "deconvnet": "deconvnet", "saliency": "saliency |∂/∂x|",
    "grad_cam": "Grad-CAM", "guided_grad_cam": "guided Grad-CAM", "smoothgrad": "SmoothGrad",
    "gradient_x_input": "gradient × input", "integrated_gradients": "integrated gradients", "occlusion": "occlusion",
}
# Methods whose page map is a magnitude (never negative); the others are signed sums over channels.
MAGNITUDES = frozenset({"saliency", "grad_cam", "occlusion"})
DELETION_BASELINES = ("mean", "blurred", "black")
# your own method: (model, normalised input (1, C, H, W), target) -> (H, W) map, larger = more important
MapFunction = Callable[[LoadedModel, torch.Tensor, Target], np.ndarray]


@dataclass(frozen=True)
class MapSettings:
    """How each map is made (the Saliency & backprop page's choices, smaller where they are costly).

    cam_layer: Grad-CAM's layer (None: the model's default); smooth_samples / smooth_noise:
    SmoothGrad; ig_steps / ig_baseline: integrated gradients; occlusion_patch / occlusion_stride
    in pixels (None: a seventh of the short side, stride half the patch); batch_size: SmoothGrad
    and integrated gradients batches; seed: SmoothGrad's noise.
    """

    cam_layer: str | None = None
    smooth_samples: int = 16
    smooth_noise: float = 0.15
    ig_steps: int = 16
    ig_baseline: str = "black"
    occlusion_patch: int | None = None
    occlusion_stride: int | None = None
    batch_size: int = 8
    seed: int = 0


def check_methods(methods: Sequence[str], allow_none: bool = False) -> tuple[str, ...]:
    """The methods asked for, in the page's order, or a message naming the valid ones."""
    if isinstance(methods, str):
        methods = (methods,)
    unknown = [name for name in methods if name not in METHODS]
    if unknown or not (methods or allow_none):
        raise SettingsError(f"Unknown attribution method '{unknown[0] if unknown else ''}'.", f"Use any of: {', '.join(METHODS)}.")
    return tuple(name for name in METHODS if name in methods)


def occlusion_pixels(drop: np.ndarray, ys: Sequence[int], xs: Sequence[int], patch: int, size: tuple[int, int]) -> np.ndarray:
    """(H, W) mean score drop over every occluding patch that covered each pixel."""
    total = np.zeros(size, np.float64)
    count = np.zeros(size, np.float64)
    for i, y in enumerate(ys):
        for j, x0 in enumerate(xs):
            total[y : y + patch, x0 : x0 + patch] += drop[i, j]
            count[y : y + patch, x0 : x0 + patch] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)


def method_maps(
    m: LoadedModel, x: torch.Tensor, target: Target, methods: Sequence[str], settings: MapSettings | None = None, custom: dict[str, MapFunction] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Each method's (H, W) map as the Saliency & backprop page shows it, and why others were skipped.

    Signed maps are sums over colour channels (vanilla, guided, deconvnet, guided Grad-CAM,
    SmoothGrad, gradient × input, integrated gradients); saliency is max_c |vanilla|, Grad-CAM
    the upsampled map, occlusion the probability drop per pixel. A rule that reaches no
    activation (the map would be the plain gradient) or a model without a grid layer for
    Grad-CAM skips the method with the reason, never a silent stand-in.
    """
    settings = settings or MapSettings()
    wanted = set(check_methods(methods))
    maps: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    passes: dict[str, PassResult] = {}

    def rule_pass(rule: str) -> PassResult:  # one forward + gradient per rule, shared by the methods built on it
        if rule not in passes:
            passes[rule] = gradients(m, x, target, rule)
        return passes[rule]

    if wanted & {"vanilla", "saliency", "gradient_x_input"}:
        grad = rule_pass("vanilla").input_grad[0]
        if "vanilla" in wanted:
            maps["vanilla"] = grad.sum(0).cpu().numpy()
        if "saliency" in wanted:
            maps["saliency"] = grad.abs().amax(0).cpu().numpy()
        if "gradient_x_input" in wanted:
            maps["gradient_x_input"] = (grad * x[0]).sum(0).cpu().numpy()
    for rule in ("guided", "deconvnet"):
        if rule in wanted or (rule == "guided" and "guided_grad_cam" in wanted):
            result = rule_pass(rule)
            if result.applied == 0:
                why = f"the {rule} rule reaches no activation of this model, so its map would be the plain gradient"
                skipped[rule] = why
                if rule == "guided" and "guided_grad_cam" in wanted:
                    skipped["guided_grad_cam"] = why
            elif rule in wanted:
                maps[rule] = result.input_grad[0].sum(0).cpu().numpy()
    if wanted & {"grad_cam", "guided_grad_cam"}:
        try:
            cam = grad_cam(m, x, target, settings.cam_layer or default_layer(m, "grad_cam"))
        except ConvlensError as error:
            for name in ("grad_cam", "guided_grad_cam"):
                if name in wanted:
                    skipped[name] = f"Grad-CAM does not apply: {error.message}"
        else:
            if "grad_cam" in wanted:
                maps["grad_cam"] = cam.upsampled
            if "guided_grad_cam" in wanted and "guided_grad_cam" not in skipped:
                guided = rule_pass("guided").input_grad[0].cpu().numpy()
                maps["guided_grad_cam"] = (guided * cam.upsampled[None]).sum(0)
    if "smoothgrad" in wanted:
        maps["smoothgrad"] = smoothgrad(m, x, target, samples=settings.smooth_samples, noise=settings.smooth_noise, batch_size=settings.batch_size, seed=settings.seed).map
    if "integrated_gradients" in wanted:
        maps["integrated_gradients"] = integrated_gradients(m, x, target, baseline=settings.ig_baseline, steps=settings.ig_steps, batch_size=settings.batch_size).map
    if "occlusion" in wanted:
        height, width = x.shape[2], x.shape[3]
        patch = settings.occlusion_patch or max(1, round(min(height, width) / 7))
        stride = settings.occlusion_stride or max(1, patch // 2)
        goal = class_prob(target.index) if isinstance(target, ClassScore) else target
        result = occlusion(m, x, goal, patch=patch, stride=stride, fill="grey", batch_size=32)
        maps["occlusion"] = occlusion_pixels(result.drop, positions(height, patch, stride), positions(width, patch, stride), patch, (height, width))
    ordered = {name: maps[name] for name in METHODS if name in maps}
    for name, function in (custom or {}).items():
        if name in METHODS:
            raise SettingsError(f"A custom method cannot be called '{name}': that is a built-in method.", "Give it another name.")
        values = np.asarray(function(m, x, target), np.float32)
        if values.shape != tuple(x.shape[2:]):
            raise SettingsError(f"The custom method '{name}' gave a map of shape {values.shape}; the input is {tuple(x.shape[2:])}.", "Return one value per input pixel.")
        ordered[name] = values
    for name, values in ordered.items():
        ordered[name] = np.nan_to_num(np.asarray(values, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return ordered, {name: skipped[name] for name in METHODS if name in skipped}


def unit_ranks(importance: np.ndarray, patch: int) -> tuple[np.ndarray, int]:
    """(H, W) position of each pixel's unit in the order of decreasing mean importance, and the unit count.

    Units are `patch`×`patch` squares (edge ones smaller); ties keep reading order, so an order
    is deterministic.
    """
    height, width = importance.shape
    columns = math.ceil(width / patch)
    ids = (np.arange(height) // patch)[:, None] * columns + (np.arange(width) // patch)[None, :]
    count = math.ceil(height / patch) * columns
    sums = np.bincount(ids.ravel(), weights=importance.astype(np.float64).ravel(), minlength=count)
    means = sums / np.bincount(ids.ravel(), minlength=count)
    order = np.argsort(-means, kind="stable")
    position = np.empty(count, np.int64)
    position[order] = np.arange(count)
    return position[ids], count


def random_ranks(height: int, width: int, patch: int, seed: int) -> tuple[np.ndarray, int]:
    """The same units in a seeded random order: the floor a map's order must beat."""
    columns = math.ceil(width / patch)
    ids = (np.arange(height) // patch)[:, None] * columns + (np.arange(width) // patch)[None, :]
    count = math.ceil(height / patch) * columns
    return np.random.default_rng(seed).permutation(count)[ids], count


def switch_curves(
    m: LoadedModel,
    start: torch.Tensor,
    end: torch.Tensor,
    ranks: Sequence[np.ndarray],
    counts: np.ndarray,
    target: Target,
    batch_size: int,
    on_picture: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(len(ranks), S) scores of the pictures that show `end` where rank < counts[s], else `start`.

    The first and last points (no unit switched, all switched) are the same picture for every
    order, so they are scored once. `on_picture(n)` is told how many pictures were scored.
    """
    steps = len(counts)
    out = np.empty((len(ranks), steps), np.float64)
    # the start and end pictures first (order 0 stands for all), then every inner point of every order
    jobs = [(0, 0), (0, steps - 1)] + [(j, s) for j in range(len(ranks)) for s in range(1, steps - 1)]
    rank_t = [torch.as_tensor(r, device=start.device) for r in ranks]
    for first in range(0, len(jobs), batch_size):
        chunk = jobs[first : first + batch_size]
        masks = torch.stack([rank_t[j] < int(counts[s]) for j, s in chunk])[:, None]  # (B, 1, H, W)
        values = scores(m, torch.where(masks, end, start), target).double().cpu().numpy()
        for index, ((j, s), value) in enumerate(zip(chunk, values), start=first):
            if index < 2:  # the shared start / end picture
                out[:, s] = value
            else:
                out[j, s] = value
        if on_picture is not None:
            on_picture(first + len(chunk))
    return out


def area(curve: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Area under each curve (last axis) over the fractions in [0, 1], by the trapezoid rule."""
    return np.trapezoid(curve, fractions, axis=-1)


def deletion_insertion(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    maps: dict[str, np.ndarray],
    *,
    step: float = 0.05,
    patch: int = 1,
    baseline: str = "mean",
    blur_sigma: float | None = None,
    modes: Sequence[str] = ("deletion", "insertion"),
    random_order: bool = True,
    seed: int = 0,
    batch_size: int = 32,
    skipped: dict[str, str] | None = None,
    on_step: OnStep | None = None,
) -> Faithfulness:
    """Deletion and insertion curves of the given (H, W) maps (higher value = more important).

    `step`: the fraction of units switched per curve point; `patch`: unit size in pixels (1:
    single pixels); `baseline`: what deletion puts in (the data mean, a blurred copy, black);
    insertion starts from a copy blurred with `blur_sigma` pixels (None: 1/22 of the image
    side, ≈10 px at 224). For a class target the curves show its softmax probability; for a
    unit, its value. Each curve is about 1/step pictures, forwarded `batch_size` at a time.
    """
    goal = as_target(target, m)
    x = as_input(m, image)
    height, width = x.shape[2], x.shape[3]
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0.001 <= step <= 0.5:
        raise SettingsError(f"The step must be a fraction between 0.001 and 0.5; got {step!r}.")
    patch = check_int(patch, "The patch size", 1, min(height, width))
    batch = check_int(batch_size, "The batch size", 1, 512)
    if baseline not in DELETION_BASELINES:
        raise SettingsError(f"Unknown deletion baseline '{baseline}'.", f"Use one of: {', '.join(DELETION_BASELINES)}.")
    modes = tuple(modes)
    if not modes or any(mode not in ("deletion", "insertion") for mode in modes):
        raise SettingsError(f"Modes must be 'deletion' and/or 'insertion'; got {modes!r}.")
    if not maps:
        raise SettingsError("No map to order the pixels by.", "Pass at least one (H, W) map.")
    for name, values in maps.items():
        if np.shape(values) != (height, width):
            raise SettingsError(f"The map '{name}' is {np.shape(values)}; the model sees {height}×{width} pixels.", "Give one value per input pixel.")
    names = tuple(maps)
    curve_target = class_prob(goal.index) if isinstance(goal, ClassScore) else goal
    sigma = blur_sigma if blur_sigma is not None else max(height, width) / 22
    filler = {"mean": torch.zeros_like(x), "blurred": gaussian_blur(x, sigma), "black": None}[baseline]
    if filler is None:
        low, _ = m.preprocessing.bounds()
        filler = low.to(x).expand_as(x).clone()
    blurred = gaussian_blur(x, sigma)

    ranks, count = [], 0
    for name in names:
        rank, count = unit_ranks(np.nan_to_num(np.asarray(maps[name], np.float64), nan=-np.inf), patch)
        ranks.append(rank)
    if random_order:
        ranks.append(random_ranks(height, width, patch, seed)[0])
    steps = int(round(1 / step))
    fractions = np.arange(steps + 1) / steps
    counts = np.round(fractions * count).astype(np.int64)
    pictures = len(modes) * (2 + len(ranks) * (steps - 1))
    seen = [0]

    def progress(mode_done: int) -> Callable[[int], None]:
        def on_picture(n: int) -> None:
            report(on_step, (mode_done + n) / pictures, f"{mode_done + n}/{pictures} pictures scored", step=mode_done + n)
        return on_picture

    empty = np.full((len(ranks), steps + 1), np.nan)
    curves = {"deletion": empty, "insertion": empty}
    for mode in modes:
        start, end = (x, filler) if mode == "deletion" else (blurred, x)
        curves[mode] = switch_curves(m, start, end, ranks, counts, curve_target, batch, progress(seen[0]))
        seen[0] += 2 + len(ranks) * (steps - 1)
    deletion, insertion = curves["deletion"], curves["insertion"]
    m_count = len(names)
    notes = tuple(f"{LABELS.get(name, name)} left out: {why}." for name, why in (skipped or {}).items())
    if any(not np.isfinite(curves[mode]).all() for mode in modes):
        notes += ("Some pictures gave non-finite scores; their areas are not meaningful.",)
    return Faithfulness(
        methods=names,
        fractions=fractions,
        deletion=deletion[:m_count],
        insertion=insertion[:m_count],
        random_deletion=deletion[m_count] if random_order else np.full(steps + 1, np.nan),
        random_insertion=insertion[m_count] if random_order else np.full(steps + 1, np.nan),
        maps=np.stack([np.asarray(maps[name], np.float32) for name in names]),
        image=m.deprocess(x),
        target=curve_target.describe(m),
        params={
            "method": "deletion_insertion", "target": target_spec(goal), "curve_target": target_spec(curve_target),
            "step": float(step), "patch": patch, "units": int(count), "baseline": baseline, "blur_sigma": float(sigma),
            "modes": list(modes), "random_order": bool(random_order), "seed": int(seed), "batch_size": batch,
        },
        notes=notes,
    )


def faithfulness(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    methods: Sequence[str] = METHODS,
    settings: MapSettings | None = None,
    custom: dict[str, MapFunction] | None = None,
    step: float = 0.05,
    patch: int = 1,
    baseline: str = "mean",
    seed: int = 0,
    batch_size: int = 32,
    on_step: OnStep | None = None,
) -> Faithfulness:
    """Every method's map of `target` on `image`, then its deletion and insertion curves.

    `result.table()` ranks the methods for this image. Maps explain `target` as given (an int
    is the class logit, as on the Saliency page); the curves show the class probability.
    `custom`: your own map functions, ranked alongside.
    """
    goal = as_target(target, m)
    x = as_input(m, image)
    chosen = check_methods(methods, allow_none=bool(custom))
    report(on_step, 0.0, "computing the maps")
    maps, skipped = method_maps(m, x, goal, chosen, settings, custom)
    if not maps:
        raise SettingsError("None of the chosen methods applies to this model.", "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    report(on_step, 0.3, "maps done, scoring pictures")

    def inner(info: StepInfo) -> None:
        report(on_step, 0.3 + 0.7 * info.fraction, info.message)

    result = deletion_insertion(m, x, goal, maps, step=step, patch=patch, baseline=baseline, seed=seed, batch_size=batch_size, skipped=skipped, on_step=inner)
    params = {**result.params, "method": "faithfulness", "methods": list(chosen) + list(custom or {}), "settings": vars(settings or MapSettings()).copy()}
    return replace(result, params=params)


SUMMARY_SCHEMA = 1  # bump when the stored rows or how they are made change, so old entries are not reused


def _summary_key(m: LoadedModel, collection_digest: str, settings: dict[str, object]) -> str:
    """Weights digest x collection digest x everything the areas depend on (not the batch size)."""
    return entry_key(
        "faithfulness_summary", weights=weights_digest(m.model), collection=collection_digest,
        settings={**settings, "schema": SUMMARY_SCHEMA, "data_config": m.data_config},
    )


def _summary(
    c: "Collection", indices: np.ndarray, chosen: tuple[str, ...], rows: dict[str, np.ndarray], params: dict[str, object], notes: tuple[str, ...], from_store: bool,
) -> FaithfulnessSummary:
    """The summary from its per-image rows (freshly scored or read back from the store)."""
    methods = len(chosen)
    curves_del = rows["deletion_curves"].reshape(len(indices), methods, -1)
    curves_ins = rows["insertion_curves"].reshape(len(indices), methods, -1)
    points = curves_del.shape[2]
    with np.errstate(invalid="ignore"):  # a method that never applied stays nan (shown as "0 images")
        mean_del, mean_ins = np.nanmean(curves_del, axis=0), np.nanmean(curves_ins, axis=0)
    return FaithfulnessSummary(
        methods=chosen,
        names=tuple(c.names[int(i)] for i in indices),
        targets=tuple(str(t) for t in rows["target"]),
        fractions=np.arange(points) / (points - 1),
        deletion_area=rows["deletion_area"],
        insertion_area=rows["insertion_area"],
        random_deletion_area=rows["random_deletion_area"],
        random_insertion_area=rows["random_insertion_area"],
        mean_deletion=np.nan_to_num(mean_del),
        mean_insertion=np.nan_to_num(mean_ins),
        collection=c.title,
        params=params,
        notes=notes,
        from_store=from_store,
    )


def _summary_plan(m: LoadedModel, source: object, images: int, methods: Sequence[str], settings: MapSettings | None,
                  step: float, patch: int, baseline: str, seed: int) -> tuple["Collection", np.ndarray, tuple[str, ...], dict[str, object], str]:
    """The collection, the sampled indices, the methods, the result's params and its store key."""
    from ..dataset import collection

    c = collection(source)
    count = check_int(images, "The number of images", 1, 10_000)
    if len(c) == 0:
        raise DatasetError("The collection has no images.")
    chosen = check_methods(methods)
    _, indices = c.sample(count, seed)
    depends_on = {
        "images": int(len(indices)), "methods": list(chosen), "settings": vars(settings or MapSettings()).copy(),
        "step": float(step), "patch": int(patch), "baseline": baseline, "seed": int(seed),
    }
    params = {
        "method": "faithfulness_summary", "collection": c.title, "collection_digest": c.digest,
        "indices": [int(i) for i in indices], **depends_on, "target": "each image's top-1 class (probability)",
    }
    return c, indices, chosen, params, _summary_key(m, c.digest, depends_on)


def stored_faithfulness_summary(
    m: LoadedModel, source: object, *, store: Store, images: int = 32, methods: Sequence[str] = METHODS, settings: MapSettings | None = None,
    step: float = 0.05, patch: int = 1, baseline: str = "mean", seed: int = 0,
) -> FaithfulnessSummary | None:
    """The summary `faithfulness_summary` would give, when the store already holds it; else None.

    Why: the Trust page can show a known summary at once and score pictures only when asked.
    """
    c, indices, chosen, params, key = _summary_plan(m, source, images, methods, settings, step, patch, baseline, seed)
    stored = store.get(key)
    if stored is None:
        return None
    return _summary(c, indices, chosen, stored.columns, {**params, "batch_size": int(stored.meta.get("batch_size", 32))},
                    tuple(stored.meta.get("notes", ())), from_store=True)


def faithfulness_summary(
    m: LoadedModel,
    source: object,
    *,
    images: int = 32,
    methods: Sequence[str] = METHODS,
    settings: MapSettings | None = None,
    step: float = 0.05,
    patch: int = 1,
    baseline: str = "mean",
    seed: int = 0,
    batch_size: int = 32,
    store: Store | None = None,
    on_step: OnStep | None = None,
) -> FaithfulnessSummary:
    """Deletion and insertion areas of every method over `images` pictures of a collection.

    Each picture explains its own top-1 class; the images are a seeded sample (`seed`) of the
    collection ("photos", "digits", a folder, a Collection). Means come with 95 % t-intervals.
    With `store`, a summary of these weights, this collection and these settings made before
    (in any session, after a restart) is read back without scoring a picture, and a new one is
    saved; raising `Cancelled` in `on_step` stops the pass and saves nothing.
    """
    c, indices, chosen, params, key = _summary_plan(m, source, images, methods, settings, step, patch, baseline, seed)
    params = {**params, "batch_size": int(batch_size)}
    if store is not None:
        stored = store.get(key)
        if stored is not None:
            report(on_step, 1.0, f"{len(indices)} images read from the results store")
            return _summary(c, indices, chosen, stored.columns, params, tuple(stored.meta.get("notes", ())), from_store=True)
    sample = c.subset(indices)
    points = int(round(1 / step)) + 1
    rows: dict[str, list[object]] = {name: [] for name in (
        "index", "target", "deletion_area", "insertion_area", "random_deletion_area", "random_insertion_area", "deletion_curves", "insertion_curves")}
    notes: list[str] = []
    for i in range(len(sample)):
        x = m.preprocess(sample.load(i))
        with torch.inference_mode():
            top = int(m.model(x).argmax(dim=-1)[0])

        def inner(info: StepInfo, i: int = i) -> None:
            report(on_step, (i + info.fraction) / len(sample), f"image {i + 1}/{len(sample)}: {info.message}", step=i)

        result = faithfulness(m, x, top, methods=chosen, settings=settings, step=step, patch=patch, baseline=baseline, seed=seed + i, batch_size=batch_size, on_step=inner)
        area_d, area_i = np.full(len(chosen), np.nan), np.full(len(chosen), np.nan)
        curve_d, curve_i = np.full((len(chosen), points), np.nan), np.full((len(chosen), points), np.nan)
        for j, name in enumerate(chosen):
            if name in result.methods:
                k = result.methods.index(name)
                area_d[j], area_i[j] = result.deletion_area[k], result.insertion_area[k]
                curve_d[j], curve_i[j] = result.deletion[k], result.insertion[k]
        for name, value in (("index", int(indices[i])), ("target", result.target), ("deletion_area", area_d), ("insertion_area", area_i),
                            ("random_deletion_area", result.random_deletion_area), ("random_insertion_area", result.random_insertion_area),
                            ("deletion_curves", curve_d.reshape(-1)), ("insertion_curves", curve_i.reshape(-1))):
            rows[name].append(value)
        notes.extend(note for note in result.notes if note not in notes)
    report(on_step, 1.0, f"{len(sample)} images")
    columns = {name: np.array(values) for name, values in rows.items()}
    summary = _summary(c, indices, chosen, columns, params, tuple(notes), from_store=False)
    if store is not None:
        with store.writer(key, "faithfulness_summary") as writer:
            writer.write(0, columns)
            saved = writer.commit({"notes": notes, "model": m.name, "collection": c.title, "batch_size": int(batch_size)})
        if not saved:
            summary = replace(summary, notes=(*summary.notes, "The store was cleared during the pass, so this summary was not saved."))
    return summary
