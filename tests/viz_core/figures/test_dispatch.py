"""`figure(result)` draws every result kind, through the most specific registered class."""
from __future__ import annotations

import dataclasses
import inspect

import plotly.graph_objects as go
import pytest

from viz_core import figures, results
from viz_core.dataset.patches import ReceptiveField
from viz_core.figures import dispatch

from .samples import SAMPLES

# Not drawn on their own, so no figure: StepInfo is a progress event (its preview image is shown
# by the progress widget, not as a result); Features are (N, D) vectors that are drawn through
# their Projection; Neighbours are row indices into a Features set and hold no images to show.
EXEMPT = {results.StepInfo, results.Features, results.Neighbours}

RESULT_KINDS = [
    cls for _, cls in inspect.getmembers(results, inspect.isclass) if dataclasses.is_dataclass(cls) and cls.__module__ == results.__name__
]


def drawer(kind: type) -> object:
    return next((figures.registered()[k] for k in kind.__mro__ if k in figures.registered()), None)


@pytest.mark.parametrize("kind", RESULT_KINDS, ids=lambda k: k.__name__)
def test_every_drawable_result_kind_has_a_figure(kind: type) -> None:
    if kind in EXEMPT:
        assert drawer(kind) is None, f"{kind.__name__} is drawable now: take it off EXEMPT"
        return
    assert drawer(kind) is not None, f"{kind.__name__} has no figure: register one with @figures.draws({kind.__name__})"
    assert kind in SAMPLES, f"add a hand-built {kind.__name__} to tests/viz_core/figures/samples.py"


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda k: k.__name__)
def test_figure_dispatches_to_the_registered_function(kind: type) -> None:
    result = SAMPLES[kind]()
    fig = figures.figure(result)
    assert isinstance(fig, go.Figure) and fig.data
    assert fig.to_json() == figures.registered()[kind](result).to_json()


def test_receptive_fields_are_drawn_too() -> None:
    assert ReceptiveField in figures.registered()


def test_options_reach_the_figure_function() -> None:
    result = SAMPLES[results.OcclusionMap]()
    assert figures.figure(result, winner=True).data[1].colorbar.ticktext == ("cat", "dog")


def test_a_subclass_is_drawn_by_its_own_figure_else_by_its_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "_DRAWERS", dict(dispatch._DRAWERS))  # keep the real registry clean

    @dataclasses.dataclass(frozen=True)
    class Painted(results.Synthesis):
        brush: str = "round"

    @dataclasses.dataclass(frozen=True)
    class Dreamed(results.Synthesis):
        octaves: int = 3

    base = SAMPLES[results.Synthesis]()
    painted = Painted(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
    assert figures.figure(painted).layout.title.text == figures.synthesis_figure(base).layout.title.text

    @figures.draws(Dreamed)
    def dreamed_figure(result: Dreamed) -> go.Figure:
        return go.Figure(layout=dict(title=f"{result.octaves} octaves"))

    dreamed = Dreamed(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
    assert figures.figure(dreamed).layout.title.text == "3 octaves"
    with pytest.raises(ValueError, match="already has a figure"):
        figures.draws(Dreamed)(dreamed_figure)


def test_an_unknown_kind_says_how_to_register_one() -> None:
    with pytest.raises(TypeError, match=r"figures\.draws\(object\)"):
        figures.figure(object())
