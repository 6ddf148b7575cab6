"""Recipe settings: one frozen dataclass per recipe, overridable by keyword, misspellings refused."""
from __future__ import annotations

import pytest

import viz_core as vc
from viz_core.synthesis.settings import as_params, configure


def test_overrides_apply_to_the_defaults_or_to_given_settings() -> None:
    assert configure(vc.Ascent, None, {}) == vc.Ascent()
    assert configure(vc.Ascent, vc.Ascent(steps=32), {"lr": 0.1}) == vc.Ascent(steps=32, lr=0.1)
    style = configure(vc.Style, None, {"style_layers": ["a", "b"]})
    assert style.style_layers == ("a", "b") and hash(style) == hash(vc.Style(style_layers=("a", "b")))  # cache keys
    assert as_params(style)["style_layers"] == ["a", "b"]


def test_unknown_settings_name_the_valid_ones() -> None:
    with pytest.raises(vc.SettingsError, match="stpes") as info:
        configure(vc.Ascent, None, {"stpes": 3})
    assert "steps" in info.value.hint
    with pytest.raises(vc.SettingsError, match="Ascent"):
        configure(vc.Ascent, vc.Dream(), {})


def test_recipes_record_their_settings(random_cnn: vc.LoadedModel) -> None:
    result = vc.class_model(random_cnn, 3, vc.Ascent(steps=2, jitter=0, rotate=0.0, scale=0.0))
    assert result.params["settings"]["steps"] == 2 and result.params["target"] == vc.class_logit(3).spec()
    with pytest.raises(vc.TargetError, match="class score"):
        vc.class_model(random_cnn, vc.unit("layer1", 0), steps=1)
    with pytest.raises(vc.TargetError, match="unit"):
        vc.neuron(random_cnn, 3, steps=1)  # type: ignore[arg-type]
