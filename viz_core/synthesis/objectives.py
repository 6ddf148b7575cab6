"""Objectives: scalar scores of a picture that the engine maximises; they compose with + - and *.

Why a tiny algebra: every method in this package is "some score of some activations, minus some
prior on the picture". With `a - 0.1 * b` the recipe *is* the formula from its paper.

Convention: quantities one wants large are positive (class logit, channel mean, layer norm);
priors (`total_variation`, `l2`, `alpha_norm`) return the positive penalty, so subtract them;
matches (`feature_match`, `gram_match`) return the negative distance, so add them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import TargetError
from ..layers import Geometry
from ..targets import ClassScore, Target, TargetLike, Unit

# Layer key for the classifier's input: the penultimate code, for any timm model.
PENULTIMATE = "<penultimate>"


@dataclass
class Probe:
    """What an objective can read after one forward.

    logits: (B, classes); activations: layer path -> output (the penultimate code under
    `PENULTIMATE`); image01: the rendered picture (B, 3, H, W) in [0, 1] before the random
    transforms; input: the normalised tensor the model saw.
    """

    logits: torch.Tensor
    activations: dict[str, torch.Tensor]
    image01: torch.Tensor
    input: torch.Tensor
    values: dict[int, tuple["Objective", torch.Tensor]] = field(default_factory=dict)  # each objective's score, computed once


ScoreFn = Callable[[Probe], torch.Tensor]


def _per_image(value: torch.Tensor, batch: int) -> torch.Tensor:
    """Any score shape -> (B,): scalars are broadcast, extra axes averaged."""
    if value.ndim == 0:
        return value.expand(batch)
    return value.reshape(value.shape[0], -1).mean(dim=1)


@dataclass(frozen=True)
class Objective:
    """A named score with the layers it reads; `score(probe)` is (B,)."""

    name: str
    fn: ScoreFn = field(repr=False, compare=False)
    layers: tuple[str, ...] = ()

    def score(self, probe: Probe) -> torch.Tensor:
        """(B,) scores; computed once per forward, so the engine can report a term's value (a
        style loss, say) without paying for it again."""
        known = probe.values.get(id(self))
        if known is not None and known[0] is self:
            return known[1]
        value = _per_image(self.fn(probe), probe.image01.shape[0])
        probe.values[id(self)] = (self, value)  # holding `self` keeps its id from being reused
        return value

    def __add__(self, other: "Objective | float") -> "Objective":
        if isinstance(other, (int, float)):
            return Objective(f"{self.name} + {other:g}", lambda p: self.score(p) + other, self.layers)
        return Objective(f"{self.name} + {other.name}", lambda p: self.score(p) + other.score(p), _union(self.layers, other.layers))

    def __radd__(self, other: float) -> "Objective":
        return self + other

    def __sub__(self, other: "Objective | float") -> "Objective":
        return self + (-1.0) * other

    def __rsub__(self, other: float) -> "Objective":
        return (-1.0) * self + other

    def __neg__(self) -> "Objective":
        return (-1.0) * self

    def __mul__(self, factor: float) -> "Objective":
        if not isinstance(factor, (int, float)):
            return NotImplemented
        return Objective(f"{factor:g}·({self.name})", lambda p: factor * self.score(p), self.layers)

    def __rmul__(self, factor: float) -> "Objective":
        return self * factor

    def __truediv__(self, divisor: float) -> "Objective":
        return self * (1.0 / divisor)


def _union(a: Sequence[str], b: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*a, *b]))


def _activation(probe: Probe, layer: str) -> torch.Tensor:
    if layer not in probe.activations:
        raise TargetError(f"Layer '{layer}' produced no tensor in the forward pass.", "Pick a layer that the model runs for this input.")
    return probe.activations[layer]


# --- scores of the model -----------------------------------------------------------------------


def target(t: TargetLike) -> Objective:
    """Any target (a class index, `class_logit`, `class_prob`, `unit`) as an objective: the one
    vocabulary of attribution is also that of synthesis."""
    if isinstance(t, bool) or not isinstance(t, (int, Target)):
        raise TargetError(f"Cannot maximise a {type(t).__name__}.", "Use a class index, class_logit(k), class_prob(k) or unit(layer, channel).")
    goal: Target = ClassScore(t) if isinstance(t, int) else t
    if isinstance(goal, ClassScore):
        name = f"{'p' if goal.probability else 'logit'}[{goal.index}]"
    elif isinstance(goal, Unit):
        name = f"{goal.layer}[{goal.channel}] " + ("mean" if goal.y is None else f"@ ({goal.y}, {goal.x})")
    else:
        name = type(goal).__name__
    return Objective(name, lambda p: goal.score(p.logits, p.activations), tuple(goal.layers()))


def layer_norm(layer: str) -> Objective:
    """Half the mean squared activation of a layer: its gradient w.r.t. the activation is the activation (DeepDream)."""
    return Objective(f"‖{layer}‖²", lambda p: 0.5 * _activation(p, layer).pow(2).flatten(1).mean(dim=1), (layer,))


# --- matches to a reference ----------------------------------------------------------------------


def _as_tensor(value: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(value).detach().float()


def feature_match(layer: str, reference: np.ndarray | torch.Tensor, relative: bool = True) -> Objective:
    """Minus the squared distance of `layer`'s activation to `reference` (1 x layer shape).

    `relative` divides by ‖reference‖², so the score reads as "fraction of the code not yet
    matched" and one weight fits every layer (Mahendran & Vedaldi 2015 normalise the same way).
    """
    ref = _as_tensor(reference)
    norm = float(ref.pow(2).sum()) if relative else float(ref.numel())
    norm = norm if norm > 0 else 1.0

    def fn(p: Probe) -> torch.Tensor:
        act = _activation(p, layer)
        if act.shape[1:] != ref.shape[1:]:
            raise TargetError(
                f"Layer '{layer}' gives shape {tuple(act.shape[1:])} but the reference has {tuple(ref.shape[1:])}.",
                "Compute the reference at the same input size as the picture.",
            )
        return -(act - ref.to(act.device)).pow(2).flatten(1).sum(dim=1) / norm

    return Objective(f"match {layer}", fn, (layer,))


def smoothed(flat: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """SWAG's activation smoothing (Wang, Li & Vasconcelos 2021): a softmax over *all* of a
    layer's activations (B, C, N) -> (B, C, N), each picture's entries summing to 1.

    Why: residual networks' features are peaky (a few huge activations, low entropy), and Gram
    matrices of peaky features over-fit those few entries instead of the texture; the softmax
    turns the layer into one distribution whose correlations describe the texture as a whole.
    `temperature` divides the activations first (1 in the paper).
    """
    batch = flat.shape[0]
    return torch.softmax(flat.reshape(batch, -1) / temperature, dim=1).reshape(flat.shape)


def gram(act: torch.Tensor, geometry: Geometry | None = None, softmax: float | None = None) -> torch.Tensor:
    """Gram matrix of channel correlations, (B, C, C), averaged over positions (Gatys et al. 2016).

    softmax: a temperature to smooth the activations with first (`smoothed`, SWAG), or None.
    """
    flat = (geometry or Geometry.infer(act)).positions(act)
    if softmax is not None:
        flat = smoothed(flat, softmax)
    return flat @ flat.transpose(1, 2) / flat.shape[-1]


def gram_match(layer: str, reference_gram: np.ndarray | torch.Tensor, geometry: Geometry | None = None, softmax: float | None = None) -> Objective:
    """Minus the mean squared difference between `layer`'s Gram matrix and `reference_gram` (1 x C x C).

    softmax: the temperature of SWAG's smoothing applied before the Gram matrix (the reference
    must have been computed the same way), or None for Gatys et al.'s plain Gram matrix.
    """
    ref = _as_tensor(reference_gram)
    if ref.ndim == 2:
        ref = ref.unsqueeze(0)

    def fn(p: Probe) -> torch.Tensor:
        current = gram(_activation(p, layer), geometry, softmax)
        if current.shape[1:] != ref.shape[1:]:
            raise TargetError(f"Layer '{layer}' has {current.shape[1]} channels but the reference Gram matrix {ref.shape[1]}.")
        return -(current - ref.to(current.device)).pow(2).flatten(1).mean(dim=1)

    return Objective(f"gram {layer}", fn, (layer,))


def diversity(layer: str, geometry: Geometry | None = None) -> Objective:
    """Minus each picture's summed cosine similarity to the others' Gram matrices at `layer`.

    For a batch of B pictures with flattened, unit-length Gram matrices g_i, picture i scores
    -Σ_{j≠i} g_i·g_j; the engine's mean over the batch is Lucid's diversity term
    (Olah et al. 2017): pictures that share a style are pushed apart, so several pictures of one
    neuron show the different things it responds to. A single picture scores 0.
    """

    def fn(p: Probe) -> torch.Tensor:
        grams = gram(_activation(p, layer), geometry).flatten(1)
        unit_grams = grams / grams.norm(dim=1, keepdim=True).clamp_min(1e-12)
        similarity = unit_grams @ unit_grams.T
        return -(similarity.sum(dim=1) - similarity.diagonal())

    return Objective(f"diversity {layer}", fn, (layer,))


# --- priors on the picture (penalties: subtract them) ---------------------------------------------


def total_variation(beta: float = 2.0) -> Objective:
    """Mean of (dx² + dy²)^(β/2) over the picture in [0, 1] (Mahendran & Vedaldi 2015): large for noise."""

    def fn(p: Probe) -> torch.Tensor:
        image = p.image01
        corner = image[..., :-1, :-1]
        dy = image[..., 1:, :-1] - corner
        dx = image[..., :-1, 1:] - corner
        if beta == 2.0:  # the default: no power to take, and the mean splits into two cheaper sums
            return (dx.square().flatten(1).sum(dim=1) + dy.square().flatten(1).sum(dim=1)) / corner[0].numel()
        return (dx * dx + dy * dy + 1e-8).pow(beta / 2).flatten(1).mean(dim=1)

    return Objective(f"TV^{beta:g}", fn)


def alpha_norm(alpha: float = 6.0) -> Objective:
    """Mean of |x - 0.5|^α over the picture: keeps pixels inside a natural range (α = 2 is the L2 prior)."""
    return Objective(f"α{alpha:g}-norm", lambda p: (p.image01 - 0.5).abs().pow(alpha).flatten(1).mean(dim=1))


def l2() -> Objective:
    """Mean squared pixel distance from grey: the L2 prior of Simonyan et al. 2014."""
    return Objective("L2", lambda p: (p.image01 - 0.5).pow(2).flatten(1).mean(dim=1))
