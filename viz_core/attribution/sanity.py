"""Sanity checks for saliency maps (Adebayo et al., 2018): does the map depend on the model at all?

An explanation of a model should change when the model is destroyed. Model randomisation
re-draws the weights of the model's layer groups, from the top (the classifier) down
("cascading") or one group at a time ("independent"), and compares each method's map with the
original: Spearman rank correlation and SSIM, of absolute and of signed maps. A map that stays
the same after every weight is random shows the image (edges, contrast), not what the model
learned: it is marked "insensitive to the model". Data randomisation compares the maps of a
model trained on real labels with those of the same architecture trained on shuffled labels.

Why private copies: randomising destroys weights, and the loaded model is shared by every
dashboard session; each check randomises its own deep copy (taken under the model's lock, so no
other run's hooks are copied with it) and never writes to the caller's model.
"""
from __future__ import annotations

import copy
import math
import zlib
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConvlensError, SettingsError
from ..hooks import model_lock
from ..hub import LoadedModel
from ..layers import default_layer
from ..results import OnStep, Sanity, report
from ..targets import TargetLike, as_target, target_spec
from .common import ImageInput, as_input
from .faithfulness import METHODS, MapFunction, MapSettings, check_methods, method_maps

MODES = ("cascading", "independent", "top_half", "full")
# The verdict: a method is "insensitive to the model" when its |map| keeps a Spearman rank
# correlation >= THRESHOLD with the original once the TOP HALF of the layer groups (the
# classifier down to the middle of the network) is random. Why there and why 0.5: with every
# weight random, every map drifts towards image statistics only slowly and all methods end up
# low (on EfficientNet-Lite0: 0.0-0.3 for all of them, guided backprop included), so the last
# stage separates nothing; Adebayo et al.'s finding is that some maps do not notice the loss of
# the upper half of the network. On Lite0 (chelsea, espresso) after the top 5 of 10 groups:
# vanilla 0.19/0.39, saliency 0.22/0.45, gradient × input 0.29/0.46, deconvnet 0.16/0.33,
# guided backprop 0.78/0.81. At 0.5, half of the original pixel order survives the loss of
# everything the upper half learned.
THRESHOLD = 0.5
DISPLAY_SIZE = 64
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def _is_norm_only(module: nn.Module) -> bool:
    with_params = [m for m in module.modules() if any(True for _ in m.parameters(recurse=False))]
    return bool(with_params) and all(isinstance(m, NORMS) or type(m).__name__.lower().endswith("norm") for m in with_params)


def layer_groups(model: nn.Module | LoadedModel) -> list[tuple[str, tuple[str, ...]]]:
    """The model's layer groups, input to output: (label, parameter names) for each.

    Groups are the top-level children that hold parameters, with top-level containers
    (Sequential / ModuleList, e.g. timm's `blocks`, `stages`, `layers`) opened one level; a
    group of normalisation layers only joins the group before it (a conv and its batch norm
    are one step). Parameters of the model itself (class token, position embedding) go with
    the first group. A module shared by several paths (CoaT's convolutional position encodings)
    has its parameters under the first path only, as `named_parameters()` names them, and in the
    first group that reaches it.
    """
    model = model.model if isinstance(model, LoadedModel) else model
    canonical = {id(p): name for name, p in model.named_parameters()}
    seen: set[int] = set()
    groups: list[tuple[str, list[str]]] = []
    for name, child in model.named_children():
        parts = list(child.named_children()) if isinstance(child, (nn.Sequential, nn.ModuleList)) else [("", child)]
        for sub, module in parts:
            path = f"{name}.{sub}" if sub else name
            params = [canonical[id(p)] for p in module.parameters() if id(p) not in seen]
            seen.update(id(p) for p in module.parameters())
            if not params:
                continue
            if groups and _is_norm_only(module):
                label, names = groups[-1]
                groups[-1] = (f"{label}+{path}", names + params)
            else:
                groups.append((path, params))
    own = [name for name, _ in model.named_parameters(recurse=False)]
    if own:
        if groups:
            groups[0] = (groups[0][0], own + groups[0][1])
        else:
            groups.append(("(model parameters)", own))
    return [(label, tuple(names)) for label, names in groups]


def randomise(model: nn.Module, names: Sequence[str], seed: int) -> None:
    """Re-draw the named parameters of a PRIVATE model: Gaussian noise with each tensor's own mean
    and standard deviation (so activations keep their scale), from a generator seeded by
    `seed` and the parameter's name (the same draw whatever else is randomised)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in names:
            p = params[name]
            generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
            values = p.detach().double()
            mean = float(values.mean()) if values.numel() else 0.0
            std = float(values.std()) if values.numel() > 1 else 0.0
            if not math.isfinite(std) or std == 0.0:
                std = 1.0 / math.sqrt(max(values[0].numel() if values.ndim > 1 else 1, 1))
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32)
            p.copy_((noise * std + mean).to(p))


def private_copy(m: LoadedModel) -> LoadedModel:
    """A deep copy of the model, taken under its lock: randomise this, never the shared one."""
    with model_lock(m.model):
        module = copy.deepcopy(m.model)
    return LoadedModel(module, m.name, f"{m.weights} (private copy for a randomisation check)", dict(m.data_config), list(m.class_names), is_random=True)


def _reduce(values: np.ndarray, size: int = DISPLAY_SIZE) -> np.ndarray:
    """(H, W) -> at most size×size by area averaging (what the grid shows; metrics use full maps)."""
    height, width = values.shape
    factor = max(1, math.ceil(max(height, width) / size))
    if factor == 1:
        return values.astype(np.float32)
    t = torch.as_tensor(values, dtype=torch.float32)[None, None]
    return torch.nn.functional.avg_pool2d(t, factor, ceil_mode=True).numpy()[0, 0]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (nan when either is constant: no order to compare)."""
    from scipy import stats

    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if not (np.isfinite(a).all() and np.isfinite(b).all()) or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(stats.spearmanr(a, b).statistic)


def ssim(a: np.ndarray, b: np.ndarray, signed: bool) -> float:
    """SSIM of two maps, each scaled by its own largest |value| (to [0, 1], or [-1, 1] if signed)."""
    from skimage.metrics import structural_similarity

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    side = min(a.shape)
    window = min(7, side if side % 2 else side - 1)
    scale_a, scale_b = np.abs(a).max(initial=0), np.abs(b).max(initial=0)
    if window < 3 or not (np.isfinite(scale_a) and np.isfinite(scale_b)) or scale_a == 0 or scale_b == 0:
        return math.nan
    return float(structural_similarity(a / scale_a, b / scale_b, data_range=2.0 if signed else 1.0, win_size=window))


def _similarities(original: dict[str, np.ndarray], maps: dict[str, np.ndarray], methods: Sequence[str]) -> np.ndarray:
    """(4, M): Spearman |map|, Spearman signed, SSIM |map|, SSIM signed of each method vs the original."""
    out = np.full((4, len(methods)), np.nan)
    for j, name in enumerate(methods):
        if name not in maps or name not in original:
            continue
        a, b = original[name], maps[name]
        out[:, j] = spearman(np.abs(a), np.abs(b)), spearman(a, b), ssim(np.abs(a), np.abs(b), False), ssim(a, b, True)
    return out


def _result(
    mode: str, methods: tuple[str, ...], stages: list[str], stage_maps: list[dict[str, np.ndarray]], image: np.ndarray,
    target: str, threshold: float, params: dict[str, object], notes: list[str], verdict: int | None,
) -> Sanity:
    original = stage_maps[0]
    sims = np.stack([_similarities(original, maps, methods) for maps in stage_maps], axis=1)  # (4, S, M)
    size = next(iter(original.values())).shape
    shown = np.zeros((len(stages), len(methods), *_reduce(np.zeros(size)).shape), np.float32)
    for s, maps in enumerate(stage_maps):
        for j, name in enumerate(methods):
            if name in maps:
                shown[s, j] = _reduce(maps[name])
    at = verdict if verdict is not None else -1
    insensitive = tuple(name for j, name in enumerate(methods) if verdict is not None and np.isfinite(sims[0, at, j]) and sims[0, at, j] >= threshold)
    for j, name in enumerate(methods):
        if name in insensitive:
            notes.append(f"{name}: its |map| still has rank correlation {sims[0, at, j]:.2f} (SSIM {sims[2, at, j]:.2f}) with the original at '{stages[at]}' — insensitive to the model.")
        if not np.isfinite(sims[0, at, j]):
            notes.append(f"{name}: its map at '{stages[at]}' is constant or not finite, so no rank correlation (nan).")
    return Sanity(
        mode=mode, methods=methods, stages=tuple(stages), maps=shown,
        spearman_abs=sims[0], spearman_signed=sims[1], ssim_abs=sims[2], ssim_signed=sims[3],
        threshold=float(threshold), insensitive=insensitive, verdict_stage=verdict, image=image, target=target, params=params, notes=tuple(notes),
    )


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
        raise SettingsError(f"The threshold is a rank correlation between -1 and 1; got {threshold!r}.")
    return float(threshold)


def model_randomisation(
    m: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    mode: str = "cascading",
    methods: Sequence[str] = METHODS,
    settings: MapSettings | None = None,
    custom: dict[str, MapFunction] | None = None,
    threshold: float = THRESHOLD,
    seed: int = 0,
    on_step: OnStep | None = None,
) -> Sanity:
    """Each method's map while the model's layer groups are randomised, on a private copy.

    mode "cascading": stage s has the top s groups random (classifier first, down to the stem);
    "independent": stage s has group s (from the top) alone random; "top_half": one stage, the
    top half of the groups random (the cheap verdict); "full": one stage, every group random.
    Draws depend only on the seed and the parameter's name, so "top_half" and "full" have the
    weights of the matching cascading stage. Methods are marked insensitive where the top half is
    random (cascading, top_half) or everything is (full): |map| Spearman >= `threshold`.
    `custom`: your own map functions (model, input, target) -> (H, W), checked alongside.
    """
    if mode not in MODES:
        raise SettingsError(f"Unknown randomisation mode '{mode}'.", f"Use one of: {', '.join(MODES)}.")
    threshold = _check_threshold(threshold)
    chosen = check_methods(methods, allow_none=bool(custom))
    goal = as_target(target, m)
    x = as_input(m, image)
    settings = settings or MapSettings()
    if settings.cam_layer is None and {"grad_cam", "guided_grad_cam"} & set(chosen):
        try:
            settings = MapSettings(**{**vars(settings), "cam_layer": default_layer(m, "grad_cam")})
        except ConvlensError:
            pass  # method_maps says why Grad-CAM is skipped
    groups = layer_groups(m.model)
    if not groups:
        raise SettingsError("This model has no parameters to randomise.", "The check needs a model with weights.")
    top_down = groups[::-1]
    if mode == "cascading":
        plan = [(label, [label]) for label, _ in top_down]  # each stage adds one group; earlier ones stay random
    elif mode == "independent":
        plan = [(label, [label]) for label, _ in top_down]
    elif mode == "top_half":
        half = math.ceil(len(top_down) / 2)
        plan = [(f"top {half} of {len(top_down)} groups (down to {top_down[half - 1][0]})", [label for label, _ in top_down[:half]])]
    else:
        plan = [("all layers", [label for label, _ in top_down])]
    verdict = {"cascading": math.ceil(len(top_down) / 2), "top_half": 1, "full": 1}.get(mode)
    names = dict(groups)
    total = len(plan) + 1
    report(on_step, 0.0, "maps of the original model")
    original, skipped = method_maps(m, x, goal, chosen, settings, custom)
    stage_maps = [original]
    notes = [f"{name} left out: {why}." for name, why in skipped.items()]
    private = private_copy(m)
    reference = {k: v.detach().clone() for k, v in private.model.named_parameters()}
    for s, (label, chosen_groups) in enumerate(plan):
        report(on_step, (s + 1) / total, f"stage {s + 1}/{len(plan)}: randomising {label}")
        if mode == "independent" and s:
            with torch.no_grad():  # put back the group randomised at the previous stage
                for name in names[plan[s - 1][1][0]]:
                    dict(private.model.named_parameters())[name].copy_(reference[name])
        for group in chosen_groups:
            randomise(private.model, names[group], seed)
        maps, _ = method_maps(private, x, goal, chosen, settings, custom)
        stage_maps.append(maps)
    report(on_step, 1.0, "done")
    methods_kept = tuple(original)
    if not methods_kept:
        raise SettingsError("None of the chosen methods applies to this model.", "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    if mode == "independent":
        notes.append("Independent randomisation marks no method: the marks come from cascading randomisation (where the top half of the network is random).")
    params = {
        "method": "model_randomisation", "mode": mode, "methods": list(methods_kept), "target": target_spec(goal), "seed": int(seed),
        "threshold": threshold, "settings": vars(settings).copy(), "groups": [label for label, _ in top_down],
    }
    return _result(mode, methods_kept, ["original"] + [label for label, _ in plan], stage_maps, m.deprocess(x), goal.describe(m), threshold, params, notes, verdict)


def data_randomisation(
    trained: LoadedModel,
    shuffled: LoadedModel,
    image: ImageInput,
    target: TargetLike,
    *,
    methods: Sequence[str] = METHODS,
    settings: MapSettings | None = None,
    custom: dict[str, MapFunction] | None = None,
    threshold: float = THRESHOLD,
) -> Sanity:
    """The maps of a model trained on true labels against one trained on shuffled labels.

    A map that explains what was learned from the labels must differ between the two (the
    shuffled model learned no digit); methods whose |map| correlation stays >= `threshold` are
    marked insensitive to the data. Both models must take the same input.
    """
    if trained.input_size != shuffled.input_size:
        raise SettingsError(f"The two models take different inputs ({trained.input_size} and {shuffled.input_size}).", "Compare two models of the same architecture.")
    threshold = _check_threshold(threshold)
    chosen = check_methods(methods, allow_none=bool(custom))
    goal = as_target(target, trained)
    as_target(target, shuffled)
    x = as_input(trained, image)
    original, skipped = method_maps(trained, x, goal, chosen, settings, custom)
    other, _ = method_maps(shuffled, x, goal, chosen, settings, custom)
    methods_kept = tuple(original)
    notes = [f"{name} left out: {why}." for name, why in skipped.items()]
    params = {"method": "data_randomisation", "trained": trained.name, "shuffled": shuffled.name, "methods": list(methods_kept), "target": target_spec(goal),
              "threshold": threshold, "settings": vars(settings or MapSettings()).copy()}
    return _result("data", methods_kept, [trained.name, shuffled.name], [original, other], trained.deprocess(x), goal.describe(trained), threshold, params, notes, 1)
