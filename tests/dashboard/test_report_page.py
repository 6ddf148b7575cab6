"""Download results and Add to report on a page, and the Report page (AppTest, on the digits demo)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
REPORT = "_convlens_report"


def on_digits() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["model"] = "digits_cnn"
    at.run()
    assert not at.exception, at.exception
    return at


def added(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [b.proto.label for b in at.get("download_button")] == ["Download results"]
    [add] = [b for b in at.button if (b.key or "").startswith("report-add-")]
    add.click().run()
    assert not at.exception, at.exception
    return at


def test_add_to_report_then_caption_reorder_and_remove() -> None:
    at = on_digits()
    at = added(at, "app_pages/occlusion.py")
    at = added(at, "app_pages/segmentation.py")
    items = at.session_state[REPORT]
    assert [item.title.split(":")[0] for item in items] == ["Occlusion", "Segmentation"]
    assert items[0].model == "digits_cnn" and set(items[1].results) == {"saliency", "segmentation"}

    at.switch_page("app_pages/report.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Report"
    first, second = (item.id for item in at.session_state[REPORT])
    at.text_area(key=f"report-caption-{first}").input("the drop map of a digit").run()
    assert at.session_state[REPORT][0].caption == "the drop map of a digit"
    at.button(key=f"report-down-{first}").click().run()
    assert [item.id for item in at.session_state[REPORT]] == [second, first]
    assert at.session_state[REPORT][1].caption == "the drop map of a digit"  # the caption moves with its item
    assert any(b.proto.label == "Download report (HTML)" for b in at.get("download_button"))
    at.button(key=f"report-remove-{second}").click().run()
    assert [item.id for item in at.session_state[REPORT]] == [first]
    at.button(key="report-clear").click().run()
    assert not at.exception and any("empty" in i.value for i in at.info)


def test_an_empty_report_says_how_to_fill_it() -> None:
    at = on_digits()
    at.switch_page("app_pages/report.py")
    at.run()
    assert not at.exception and any("Add to report" in i.value for i in at.info)
