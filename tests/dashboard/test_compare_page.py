"""The Compare page (AppTest, on the digits demo): models and methods side by side, a broken checkpoint, CKA."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def compare_page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["model"] = "digits_cnn"
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/compare.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_titles(at: AppTest) -> str:
    return " ".join(json.dumps(json.loads(chart.proto.spec).get("layout", {}).get("title", "")) for chart in at.get("plotly_chart"))


def test_two_models_side_by_side_then_cka() -> None:
    at = compare_page(**{"cmp-model-1": "digits_cnn"})
    assert not at.error, [e.value for e in at.error]
    titles = chart_titles(at)
    assert "Spearman" in titles and "Grad-CAM" in titles and "methods on digits_cnn" in titles
    assert any("Compute CKA" in i.value for i in at.info)
    at.button(key="cmp-cka-run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Linear CKA over 128 images" in chart_titles(at)
    assert any("CKA(" in c.value and "= 1.000" in c.value for c in at.caption)  # the model with itself, last stage


def test_a_broken_checkpoint_shows_its_message_and_the_others_still_compare() -> None:
    at = compare_page(**{"cmp-count": "3", "cmp-model-1": "resnet10t", "cmp-model-2": "digits_cnn"})
    at.selectbox(key="cmp-weights-1|resnet10t").set_value("file").run()
    at.file_uploader(key="cmp-checkpoint-1").upload("broken.pth", b"this is not a checkpoint", "application/octet-stream").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("broken" in e.value or "checkpoint" in e.value for e in at.error), [e.value for e in at.error]
    assert len(at.error) == 1
    assert "Spearman" in chart_titles(at)  # models 1 and 3 are still compared
