"""`figure(result)`: the one way a page, a report or the command line draws any result.

Why a registry: a new result kind then needs exactly one decorated figure function, and no
caller has to know which function belongs to which result.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import plotly.graph_objects as go

FigureFunction = TypeVar("FigureFunction", bound=Callable[..., go.Figure])

_DRAWERS: dict[type, Callable[..., go.Figure]] = {}


def draws(kind: type) -> Callable[[FigureFunction], FigureFunction]:
    """Register the decorated function as the figure of results of class `kind` (and its subclasses)."""

    def register(function: FigureFunction) -> FigureFunction:
        if kind in _DRAWERS:
            raise ValueError(f"{kind.__name__} already has a figure: {_DRAWERS[kind].__qualname__}")
        _DRAWERS[kind] = function
        return function

    return register


def registered() -> dict[type, Callable[..., go.Figure]]:
    """Every result class that has a figure, with its figure function (a copy)."""
    return dict(_DRAWERS)


def figure(result: Any, **options: Any) -> go.Figure:
    """Draw any result with its registered figure function; `options` go to that function.

    The most specific registered class in the result's MRO wins, so a subclass (e.g. a recipe's
    own result built on `Synthesis`) is drawn by its own figure when it has one, else its base's.
    """
    for kind in type(result).__mro__:
        if kind in _DRAWERS:
            return _DRAWERS[kind](result, **options)
    raise TypeError(f"No figure for {type(result).__name__}; register one with @figures.draws({type(result).__name__}).")
