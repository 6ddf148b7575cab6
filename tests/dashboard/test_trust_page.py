"""The Trust page: curves and ranking by default, the collection summary, randomisation and data randomisation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
CHEAP = ["vanilla", "guided", "saliency", "grad_cam"]


def _open(model: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=400)
    if model:
        at.query_params["model"] = model
    at.run()
    at.switch_page("app_pages/trust.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _specs(at: AppTest) -> str:
    return " ".join(element.proto.spec for element in at.get("plotly_chart"))


def test_defaults_show_curves_ranking_and_the_quick_check() -> None:
    at = _open("digits_cnn")
    assert at.title[0].value == "Trust"
    specs = [json.loads(element.proto.spec) for element in at.get("plotly_chart")]
    curves = specs[0]
    assert "Deletion and insertion" in curves["layout"]["title"]["text"]
    assert {trace["name"] for trace in curves["data"]} >= {"random order", "vanilla gradient", "Grad-CAM", "occlusion"}
    table = at.dataframe[0].value
    assert list(table["method"])[-1] == "random order" and list(table["rank"])[:3] == [1, 2, 3]
    assert at.warning or at.success  # the quick randomisation verdict is always shown
    assert any("Data randomisation" in h.value for h in at.subheader)
    assert "digits_cnn_shuffled" in _specs(at)  # the data-randomisation grid compares the two models


@pytest.mark.slow
def test_collection_summary_and_cascading_randomisation_on_the_digits_model() -> None:
    at = _open("digits_cnn")
    at.multiselect(key="trust-methods").set_value(CHEAP).run()
    at.select_slider(key="trust-images").set_value(4)
    at.button[1].click().run()  # "Run over the collection"
    assert not at.exception and not at.error
    assert "Over 4 images" in _specs(at)
    at.button[2].click().run()  # "Randomise and compare"
    assert not at.exception and not at.error
    specs = _specs(at)
    assert "Maps as the model is randomised (cascading)" in specs and "Spearman rank correlation" in specs
    tables = [d.value for d in at.dataframe]
    assert any("spearman |map|" in t.columns for t in tables)
