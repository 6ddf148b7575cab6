"""Results: one shape for every engine's output, so figures, exports and caches treat them alike."""
from __future__ import annotations

import dataclasses
import inspect

import viz_core as vc
from viz_core import results


def _result_kinds() -> list[type]:
    return [
        kind for _, kind in inspect.getmembers(results, inspect.isclass)
        if dataclasses.is_dataclass(kind) and kind.__module__ == results.__name__ and kind is not results.StepInfo
    ]


def test_every_result_carries_its_params_and_notes_and_is_frozen() -> None:
    kinds = _result_kinds()
    assert len(kinds) >= 16
    for kind in kinds:
        names = {f.name for f in dataclasses.fields(kind)}
        assert {"params", "notes"} <= names, f"{kind.__name__} lacks params or notes"
        assert kind.__dataclass_params__.frozen, f"{kind.__name__} is not frozen"  # type: ignore[attr-defined]
        assert getattr(vc, kind.__name__) is kind, f"{kind.__name__} is not exported from viz_core"


def test_a_target_is_described_the_same_way_everywhere() -> None:
    for kind in _result_kinds():
        fields = {f.name: f.type for f in dataclasses.fields(kind)}
        if "target" in fields:
            assert fields["target"] in ("str", str), f"{kind.__name__}.target is {fields['target']}"


def test_style_transfer_and_attacks_are_syntheses() -> None:
    assert issubclass(vc.StyleTransfer, vc.Synthesis) and issubclass(vc.Adversarial, vc.Synthesis)
