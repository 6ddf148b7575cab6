"""Every page in PAGES renders on the default model and image without an exception or error."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import PAGES

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def started() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=400)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("spec", PAGES, ids=[spec.title for spec in PAGES])
def test_page_renders_with_defaults(spec) -> None:  # type: ignore[no-untyped-def]
    at = started()
    at.switch_page(spec.path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title and at.title[0].value == spec.title


def test_landing_page_shows_the_prediction_and_model_card() -> None:
    at = started()
    assert any("tabby" in m.value for m in at.markdown)
    assert at.get("plotly_chart")
    assert any("Parameters" in str(table.value) for table in at.table)


def test_a_corrupt_upload_is_an_error_message_not_a_traceback() -> None:
    at = started()
    at.selectbox(key="image").set_value("Upload an image").run()
    at.file_uploader(key="image_upload").upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert any("image" in e.value.lower() for e in at.error)


def test_random_weights_warn_in_the_sidebar() -> None:
    at = started()
    at.selectbox(key="weights|efficientnet_lite0").set_value("random").run()
    assert not at.exception
    assert any("random" in w.value.lower() for w in at.sidebar.warning)


def test_a_cached_result_replays_in_a_new_session() -> None:
    """A second session hitting the result cache must not replay the first one's progress bar."""
    for _ in range(2):
        at = started()
        at.switch_page("app_pages/occlusion.py")
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]


def test_saliency_page_shows_integrated_gradients_that_add_up() -> None:
    at = started()
    at.switch_page("app_pages/saliency.py")
    at.run()
    values = {metric.label: float(metric.value) for metric in at.metric}
    change, total = values["score(image) − score(baseline)"], values["Sum of integrated gradients"]
    assert abs(total - change) <= 0.05 * abs(change), values  # completeness, 32 Gauss-Legendre steps
    at.selectbox(key="sal-ig-baseline").set_value("blurred").run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_page_settings_open_from_the_url() -> None:
    """A link carries the page's settings: the occlusion page starts with the patch and fill it names."""
    at = AppTest.from_file(APP, default_timeout=400)
    at.query_params["occ-patch"] = "64"
    at.query_params["occ-fill"] = "blur"
    at.run()
    at.switch_page("app_pages/occlusion.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.select_slider(key="occ-patch").value == 64 and at.selectbox(key="occ-fill").value == "blur"
    assert "(patch 64, stride 16, blur)" in " ".join(element.proto.spec for element in at.get("plotly_chart"))
