"""The knobs of each synthesis recipe as one frozen dataclass, and the one way to override them.

Why dataclasses: class models and neuron pictures share a dozen knobs; written once, a recipe's
settings are one hashable value that the dashboard's caches key on, a result records
(`params["settings"]`) and an export replays. `configure` lets a notebook user write
`vc.class_model(m, 9, steps=64)` and still get a clear message for a misspelt knob.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypeVar

from ..errors import SettingsError

S = TypeVar("S")


@dataclass(frozen=True)
class Ascent:
    """Gradient ascent for class models and neuron pictures.

    Defaults (measured in bench/bench_pictures.py: class models made on Lite0 that Lite1 and
    Lite2 also recognise): MACO's phase-only parameterisation with a natural magnitude spectrum
    (Fel et al. 2023), a batch of 4 random crops per step (each at least 15 % of the picture,
    rotated by up to ±10°, seen at 0.72 of the model's input size, 160 px on Lite0), Adam at lr
    0.5 on the phases with a cosine decay. Smaller, rotated crops made the pictures transfer: top-1
    on both judges for 7/8 and 8/8 classes (seeds 0 and 1) against 4/8 with 25 % unrotated crops.
    `Ascent.lucid()` gives the earlier Olah et al. (2017) settings: a decorrelated Fourier
    picture, one view per step shifted ±`jitter` px, zoomed ±`scale` and rotated ±`rotate`°.

    param: "maco", "fourier" or "pixels"; batch: views per step; crop_area: the smallest crop
    as a fraction of the picture (0: no crops, the jitter/scale/rotate transform instead);
    view_scale: the side the model sees each crop at, as a fraction of its input size (models
    that run at one size only see their own); noise: pixel noise on
    each view; schedule: "cosine" or "constant"; l2_decay, blur_every, blur_sigma, clip_norm,
    clip_contribution: Yosinski et al.'s (2015) in-place priors, pixels only.
    """

    steps: int = 128
    lr: float = 0.5
    param: str = "maco"
    jitter: int = 8
    rotate: float = 10.0
    scale: float = 0.1
    batch: int = 4
    crop_area: float = 0.15
    view_scale: float = 0.72
    noise: float = 0.0
    schedule: str = "cosine"
    l2_decay: float = 0.0
    blur_every: int = 0
    blur_sigma: float = 0.5
    clip_norm: float = 0.0
    clip_contribution: float = 0.0
    seed: int = 0

    @classmethod
    def lucid(cls, **overrides: Any) -> "Ascent":
        """The Lucid-era settings (Olah et al. 2017) convlens used before MACO: one jittered view per step."""
        return replace(cls(steps=128, lr=0.05, param="fourier", rotate=5.0, batch=1, crop_area=0.0, view_scale=1.0, schedule="constant"), **overrides)

    @classmethod
    def pixels(cls, **overrides: Any) -> "Ascent":
        """Regularised pixel ascent (Simonyan et al. 2014; Yosinski et al. 2015), one jittered view per step."""
        return cls.lucid(param="pixels", **overrides)


@dataclass(frozen=True)
class Accent:
    """Feature accentuation (Hamblin et al. 2024): make a class or unit visible in a given image.

    budget: the largest root-mean-square change of the picture (pixel units of [0, 1]);
    similarity_weight: how strongly the features at `similarity_layer` (None: the model's
    default neuron layer) must stay those of the image; views as in `Ascent` (batch, crops).
    """

    steps: int = 64
    lr: float = 0.02
    budget: float = 0.08
    similarity_weight: float = 1.0
    similarity_layer: str | None = None
    batch: int = 4
    crop_area: float = 0.5
    view_scale: float = 1.0
    rotate: float = 0.0
    noise: float = 0.0
    jitter: int = 8
    scale: float = 0.1
    schedule: str = "cosine"
    seed: int = 0


@dataclass(frozen=True)
class Inversion:
    """Feature inversion: priors' weights (total variation, α-norm) and the optimisation."""

    steps: int = 300
    lr: float = 0.1
    param: str = "fourier"
    tv_weight: float = 0.01
    alpha_weight: float = 0.0
    alpha: float = 6.0
    jitter: int = 0
    seed: int = 0


@dataclass(frozen=True)
class Dream:
    """DeepDream: octaves (each `octave_scale` larger), steps per octave, step size in pixel units."""

    octaves: int = 3
    octave_scale: float = 1.4
    steps: int = 10
    lr: float = 0.01
    jitter: int = 8
    seed: int = 0


@dataclass(frozen=True)
class Style:
    """Neural style: layers (None: the model's defaults), loss weights and the optimisation.

    Defaults (measured in bench/bench_pictures.py: the Gram distance to the style on Lite2, a
    model not used for the optimisation): a decorrelated Fourier picture optimised by Adam
    while jittered by up to ±4 px each step, with a strong total-variation prior. Without the
    jitter and the Fourier basis, Gram matrices of this network's peaky features are matched by
    high-frequency noise that only Lite0 reads as the style. Content weight 10: at 1 the content
    loss ends above a blank picture's (1.08 on the cat), at 10 it ends at 0.83 while the Gram loss
    still falls 94 % (Lite2 distance 0.33 of the content photo's, against 0.53 for the old
    default). `Style.gatys()` gives the earlier pixels + L-BFGS settings (Gatys et al. 2016).

    size: side of the square picture (None: the model's input size; CNNs only); lr None: the
    optimiser's own default; init "content" or "noise"; softmax: the temperature of SWAG's
    activation smoothing before the Gram matrices (Wang et al. 2021), None for plain Gram
    matrices; param "fourier" or "pixels"; jitter: random shift in px each step.
    """

    content_layer: str | None = None
    style_layers: tuple[str, ...] | None = None
    style_weights: tuple[float, ...] | None = None
    content_weight: float = 10.0
    style_weight: float = 100.0
    tv_weight: float = 100.0
    steps: int = 200
    optimizer: str = "adam"
    lr: float | None = None
    init: str = "content"
    seed: int = 0
    size: int | None = None
    softmax: float | None = None
    param: str = "fourier"
    jitter: int = 4

    @classmethod
    def gatys(cls, **overrides: Any) -> "Style":
        """The earlier settings: raw pixels, L-BFGS, no jitter, content weight 1, TV weight 10 (Gatys et al. 2016)."""
        return replace(cls(content_weight=1.0, tv_weight=10.0, optimizer="lbfgs", param="pixels", jitter=0), **overrides)


def configure(kind: type[S], settings: S | None, overrides: dict[str, Any]) -> S:
    """`settings` (default: the kind's defaults) with `overrides` applied, or a SettingsError
    naming the unknown knobs and the valid ones."""
    base = kind() if settings is None else settings
    if not isinstance(base, kind):
        raise SettingsError(f"Expected {kind.__name__} settings, got a {type(base).__name__}.")
    names = [f.name for f in fields(kind)]  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise SettingsError(f"Unknown setting{'s' if len(unknown) > 1 else ''} for {kind.__name__}: {', '.join(unknown)}.", f"Valid: {', '.join(names)}.")
    tuples = {k: tuple(v) for k, v in overrides.items() if isinstance(v, list)}  # keep the settings hashable
    return replace(base, **{**overrides, **tuples})  # type: ignore[type-var]


def as_params(settings: object) -> dict[str, Any]:
    """The settings as a JSON-able dict (tuples as lists), for a result's `params`."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}  # type: ignore[call-overload]
