"""A backbone without a classifier head in the dashboard: a model card instead of a ranking, and
every page either works or says that the model has no classifier head."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import PAGES

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
BACKBONE = "eva02_tiny_patch14_224"  # a masked-image-modelling backbone: timm builds it with num_classes=0


# small settings for the long runs, so the page and not the optimisation is what is tested
QUICK = {
    "Inversion": {"inv-steps": "25"},
    "Neuron": {"nr-steps": "16"},
    "DeepDream": {"dd-octaves": "1", "dd-steps": "2"},
    "Embeddings": {"embeddings-limit": "50"},
}
# Top patches scans 300 photos with the default settings (about a minute here); its library call
# on a headless model is checked in tests/viz_core/test_headless.py.
SKIPPED = {"Top patches"}


def _open(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=400)
    at.query_params["model"] = BACKBONE
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_predictions_page_shows_a_model_card_instead_of_a_ranking() -> None:
    at = _open("app_pages/predictions.py")
    assert not at.error, [e.value for e in at.error]
    assert any("has no classifier head" in info.value and "192-dimensional feature vector" in info.value for info in at.info)
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert titles == ["Model input (224×224)"]  # no top-5 bars
    card = str(at.table[0].value)
    assert "none (no classifier head)" in card and "192 feature vector" in card


def test_attention_page_rolls_out_and_explains_why_there_is_no_class() -> None:
    at = _open("app_pages/attention.py")
    assert not at.error, [e.value for e in at.error]
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]
    assert len(titles) == 3 and titles[2].startswith("attention rollout")
    assert any("no classifier head" in info.value for info in at.info)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [spec for spec in PAGES if spec.title not in SKIPPED], ids=lambda spec: spec.title)
def test_every_page_works_or_says_there_is_no_classifier_head(spec) -> None:  # type: ignore[no-untyped-def]
    at = _open(spec.path, **QUICK.get(spec.title, {}))
    for error in at.error:
        assert "no classifier head" in error.value, error.value
    assert at.title and at.title[0].value == spec.title
