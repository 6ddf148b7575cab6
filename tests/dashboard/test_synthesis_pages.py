"""The Class model, Neuron and Style transfer pages' new modes on the digits demo (AppTest, no browser):
accentuation, diversity, natural exemplars, the importance map and SWAG smoothing."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def open_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["model"] = "digits_cnn"
    for key, value in {"cm-steps": "16", "nr-steps": "16", **query}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    _clean(at)
    return at


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def choose(at: AppTest, key: str, value: str) -> None:
    """Set a control inside the page's form and press the form's button."""
    at.radio(key=key).set_value(value)
    next(b for b in at.button if b.label in ("Synthesise", "Accentuate", "Visualise")).click().run()
    _clean(at)


def titles(at: AppTest) -> str:
    return " ".join(json.dumps(json.loads(el.proto.spec).get("layout", {}).get("title", "")) + json.dumps([a.get("text", "") for a in json.loads(el.proto.spec).get("layout", {}).get("annotations", [])]) for el in at.get("plotly_chart"))


def test_class_model_page_shows_the_importance_map_and_accentuates() -> None:
    at = open_page("class_model")
    assert "importance" in titles(at)  # MACO, the default, yields the map beside the picture
    assert "4 views/step" in titles(at)
    choose(at, "cm-mode", "Accentuate in the image")
    assert "accentuated" in titles(at)
    labels = {metric.label: metric.value for metric in at.metric}
    assert float(labels["RMS change"]) <= 0.08 + 2 / 255


def test_neuron_page_shows_exemplars_several_pictures_and_an_accentuation() -> None:
    at = open_page("neuron")
    assert "patches" in " ".join(c.value for c in at.caption)  # the natural exemplars beside the picture
    choose(at, "nr-mode", "Several at once (diversity)")
    assert "picture 4" in titles(at)
    assert any(metric.label == "Style similarity" for metric in at.metric)
    choose(at, "nr-mode", "Accentuate in the image")
    assert "accentuated" in titles(at)
