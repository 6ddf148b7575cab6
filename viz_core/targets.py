"""What to explain or maximise: a class score or any unit of any layer.

A target turns (logits, captured activations) into one score per image. Engines ask it which
layers to capture, so a unit target of an early layer works on every architecture without the
engine knowing what a "unit" is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Union, runtime_checkable

import torch

from .errors import TargetError
from .layers import find_layer, token_grid

if TYPE_CHECKING:
    from .hub import LoadedModel


@runtime_checkable
class Target(Protocol):
    """A scalar per image to explain (attribution) or maximise (synthesis)."""

    def layers(self) -> tuple[str, ...]:
        """Layers whose activations `score` needs captured."""

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        """One score per image, shape (B,)."""

    def validate(self, m: "LoadedModel") -> None:
        """Raise TargetError with a clear message when the target does not fit the model."""

    def describe(self, m: "LoadedModel") -> str:
        """Human-readable name for figure titles."""


@dataclass(frozen=True)
class ClassLogit:
    """The pre-softmax score of class `index` (or its softmax probability)."""

    index: int
    probability: bool = False

    def layers(self) -> tuple[str, ...]:
        return ()

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.probability:
            return torch.softmax(logits, dim=-1)[:, self.index]
        return logits[:, self.index]

    def validate(self, m: "LoadedModel") -> None:
        n = m.num_classes
        if not 0 <= self.index < n:
            raise TargetError(f"Class {self.index} is out of range: this model has {n} classes (0..{n - 1}).")

    def describe(self, m: "LoadedModel") -> str:
        kind = "probability" if self.probability else "logit"
        return f"class {self.index} '{m.class_names[self.index]}' ({kind})"


@dataclass(frozen=True)
class Unit:
    """Channel `channel` of layer `layer`: one activation at (y, x), or the channel's spatial mean.

    On token layers (B, N, D) the channel indexes D and (y, x) a patch of the token grid; without
    a position the mean over patch tokens is used.
    """

    layer: str
    channel: int
    y: int | None = None
    x: int | None = None

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def score(self, logits: torch.Tensor, activations: dict[str, torch.Tensor]) -> torch.Tensor:
        act = activations[self.layer]
        if act.ndim == 4:  # B, C, H, W
            plane = act[:, self.channel]
            if self.y is None or self.x is None:
                return plane.mean(dim=(1, 2))
            return plane[:, self.y, self.x]
        if act.ndim == 3:  # B, N, D tokens
            prefix, _, width = token_grid(act.shape[1])
            column = act[:, prefix:, self.channel]
            if self.y is None or self.x is None:
                return column.mean(dim=1)
            return column[:, self.y * width + self.x]
        if act.ndim == 2:
            return act[:, self.channel]
        raise TargetError(f"Layer '{self.layer}' has an output of shape {tuple(act.shape)}; no unit can be picked.")

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
        if info.layout == "map":
            height, width = info.shape[1], info.shape[2]
        elif info.layout == "tokens":
            _, height, width = token_grid(info.shape[0])
        else:
            raise TargetError(f"Layer '{self.layer}' has no spatial positions; leave y and x empty.")
        if not (0 <= self.y < height and 0 <= self.x < width):
            raise TargetError(f"Position ({self.y}, {self.x}) is outside the {height}x{width} map of '{self.layer}'.")

    def describe(self, m: "LoadedModel") -> str:
        where = "mean" if self.y is None else f"at ({self.y}, {self.x})"
        return f"{self.layer} channel {self.channel} ({where})"


TargetLike = Union[int, ClassLogit, Unit, Target]


def class_logit(index: int) -> ClassLogit:
    """Target: the logit of class `index`."""
    return ClassLogit(int(index))


def class_prob(index: int) -> ClassLogit:
    """Target: the softmax probability of class `index`."""
    return ClassLogit(int(index), probability=True)


def unit(layer: str, channel: int, y: int | None = None, x: int | None = None) -> Unit:
    """Target: one unit (y, x given) or one channel's mean (y, x omitted) of `layer`."""
    return Unit(layer, int(channel), None if y is None else int(y), None if x is None else int(x))


def as_target(target: TargetLike, m: "LoadedModel") -> Target:
    """Normalise an int to a class logit and check the target against the model."""
    if isinstance(target, bool):
        raise TargetError("A target must be a class index or a unit, not a boolean.")
    if isinstance(target, int):
        target = ClassLogit(target)
    if not isinstance(target, Target):
        raise TargetError(f"Cannot use a {type(target).__name__} as a target.", "Use a class index, class_logit(k) or unit(layer, channel).")
    target.validate(m)
    return target
