"""What to explain or maximise: a class score or any unit of any layer — one vocabulary for every engine.

A target turns (logits, captured activations) into one score per image. Attribution explains it,
synthesis maximises it (`objectives.target`), the dashboard builds it from its pickers; a plain
int means that class's logit everywhere it is accepted. Engines ask a target which layers to
capture, so a unit of an early layer works on every architecture without the engine knowing
what a "unit" is.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

import torch

from .errors import TargetError
from .layers import Geometry, find_layer, position_grid

if TYPE_CHECKING:
    from .hub import LoadedModel


@runtime_checkable
class Target(Protocol):
    """A scalar per image to explain (attribution) or maximise (synthesis).

    The built-in targets also have `spec()`, a JSON-able description that `from_spec` rebuilds.
    """

    def layers(self) -> tuple[str, ...]:
        """Layers whose activations `score` needs captured."""

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        """One score per image, shape (B,)."""

    def validate(self, m: "LoadedModel") -> None:
        """Raise TargetError with a clear message when the target does not fit the model."""

    def describe(self, m: "LoadedModel") -> str:
        """Human-readable name for figure titles."""


def require_classifier(m: "LoadedModel", why: str = "so it has no classes to explain") -> None:
    """Raise TargetError when the model has no classifier head (timm's num_classes=0: self-supervised
    and masked-image-modelling backbones), whose output is the pooled feature, not class scores."""
    if m.num_classes == 0:
        raise TargetError(
            f"{m.name} has no classifier head (its output is the pooled feature vector), {why}.",
            "Explain or maximise a unit of a layer instead: neurons, inversion, DeepDream, style, filters, top patches and embeddings work without classes.",
        )


def _check_class(m: "LoadedModel", index: int) -> None:
    require_classifier(m)
    n = m.num_classes
    if not 0 <= index < n:
        raise TargetError(f"Class {index} is out of range: this model has {n} classes (0..{n - 1}).")


@dataclass(frozen=True)
class ClassScore:
    """Class `index`: its pre-softmax logit, or its softmax probability when `probability`."""

    index: int
    probability: bool = False

    def layers(self) -> tuple[str, ...]:
        return ()

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.probability:
            return torch.softmax(logits, dim=-1)[:, self.index]
        return logits[:, self.index]

    def validate(self, m: "LoadedModel") -> None:
        _check_class(m, self.index)

    def describe(self, m: "LoadedModel") -> str:
        kind = "probability" if self.probability else "logit"
        return f"class {self.index} '{m.class_names[self.index]}' ({kind})"

    def spec(self) -> dict[str, Any]:
        return {"kind": "class", "index": self.index, "probability": self.probability}


@dataclass(frozen=True)
class Unit:
    """Channel `channel` of layer `layer`: one activation at grid position (y, x), or, without a
    position, the channel's mean over all positions (on token layers: over the patch tokens).

    `geometry` is filled in by `as_target` from the model's catalogue (channels-last maps,
    prefix tokens); without it the layout is inferred from the tensor.
    """

    layer: str
    channel: int
    y: int | None = None
    x: int | None = None
    geometry: Geometry | None = field(default=None, compare=False, repr=False)

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        act = activations.get(self.layer)
        if act is None:
            raise TargetError(f"Layer '{self.layer}' produced no tensor in the forward pass.", "Pick a layer that the model runs for this input.")
        if act.ndim < 2:
            raise TargetError(f"Layer '{self.layer}' has an output of shape {tuple(act.shape)}; no unit can be picked.")
        plane = (self.geometry or Geometry.infer(act)).grid(act)[:, self.channel]  # (B, h, w)
        if self.y is None or self.x is None:
            return plane.mean(dim=(1, 2))
        return plane[:, self.y, self.x]

    def validate(self, m: "LoadedModel") -> None:
        info = find_layer(m.layers(), self.layer)
        if info.channels == 0:
            raise TargetError(f"Layer '{self.layer}' has no output with channels to pick.")
        if not 0 <= self.channel < info.channels:
            raise TargetError(
                f"Channel {self.channel} is out of range: layer '{self.layer}' has {info.channels} channels (0..{info.channels - 1})."
            )
        if self.y is None and self.x is None:
            return
        if self.y is None or self.x is None:
            raise TargetError("Give both y and x for a single position, or neither for the channel mean.")
        grid = position_grid(info)
        if grid is None:
            raise TargetError(f"Layer '{self.layer}' has no spatial positions; leave y and x empty.")
        _, height, width = grid
        if not (0 <= self.y < height and 0 <= self.x < width):
            raise TargetError(f"Position ({self.y}, {self.x}) is outside the {height}x{width} map of '{self.layer}'.")

    def describe(self, m: "LoadedModel") -> str:
        where = "mean" if self.y is None else f"at ({self.y}, {self.x})"
        return f"{self.layer} channel {self.channel} ({where})"

    def spec(self) -> dict[str, Any]:
        return {"kind": "unit", "layer": self.layer, "channel": self.channel, "y": self.y, "x": self.x}


TargetLike = Union[int, Target]


def target_spec(target: Target) -> dict[str, Any]:
    """A JSON-able description of a target for a result's `params`: `spec()` of the built-in ones
    (which `from_spec` rebuilds), the class name of a user's own."""
    spec = getattr(target, "spec", None)
    return spec() if callable(spec) else {"kind": "custom", "type": type(target).__name__}


def class_logit(index: int) -> ClassScore:
    """Target: the logit of class `index` (what a plain int means)."""
    return ClassScore(int(index))


def class_prob(index: int) -> ClassScore:
    """Target: the softmax probability of class `index`."""
    return ClassScore(int(index), probability=True)


def unit(layer: str, channel: int, y: int | None = None, x: int | None = None) -> Unit:
    """Target: one unit (y, x given) or one channel's mean (y, x omitted) of `layer`."""
    return Unit(layer, int(channel), None if y is None else int(y), None if x is None else int(x))


def centre_unit(m: "LoadedModel", layer: str, channel: int) -> Unit:
    """Target: the unit of `channel` at the centre of `layer`'s grid (a neuron with one receptive field)."""
    grid = position_grid(find_layer(m.layers(), layer))
    if grid is None:
        raise TargetError(f"Layer '{layer}' has no spatial positions, so it has no centre unit.", "Use the channel's mean.")
    _, height, width = grid
    return unit(layer, channel, height // 2, width // 2)


def from_spec(spec: dict[str, Any]) -> Target:
    """The target a `spec()` dict describes."""
    if spec.get("kind") == "class":
        return ClassScore(int(spec["index"]), bool(spec.get("probability", False)))
    if spec.get("kind") == "unit":
        return unit(spec["layer"], spec["channel"], spec.get("y"), spec.get("x"))
    raise TargetError(f"Cannot read a target from {spec!r}.", "Expected kind 'class' or 'unit'.")


def as_target(target: TargetLike, m: "LoadedModel") -> Target:
    """Normalise an int to a class logit, check the target against the model, and bind a unit to
    its layer's geometry."""
    if isinstance(target, bool):
        raise TargetError("A target must be a class index or a unit, not a boolean.")
    if isinstance(target, int):
        target = ClassScore(target)
    if not isinstance(target, Target):
        raise TargetError(f"Cannot use a {type(target).__name__} as a target.", "Use a class index, class_logit(k) or unit(layer, channel).")
    target.validate(m)
    if isinstance(target, Unit):
        target = replace(target, geometry=find_layer(m.layers(), target.layer).geometry)
    return target
