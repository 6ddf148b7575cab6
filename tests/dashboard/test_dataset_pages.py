"""The dataset pages on the digits demo with a folder and a zip upload (AppTest, no browser)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def digit_png(i: int) -> bytes:
    from viz_core.dataset.sources import digits

    buffer = io.BytesIO()
    digits().load(i).save(buffer, format="PNG")
    return buffer.getvalue()


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["model"] = "digits_cnn"
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


@pytest.mark.slow
def test_top_patches_from_a_zip_upload_with_an_unsafe_member() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(24):
            archive.writestr(f"digit{i % 10}/{i}.png", digit_png(i))
        archive.writestr("../evil.png", digit_png(0))
    at = open_page("patches")
    at.selectbox(key="patches-collection|digits_cnn").set_value("zip").run()
    at.file_uploader(key="patches-zip").upload("digits.zip", buffer.getvalue(), "application/zip").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("24 images, 10 labels, 1 files skipped" in c.value for c in at.caption)
    spec = charts(at)[0]
    assert "Top-9 patches of act4" in spec["layout"]["title"]["text"] and "uploaded zip" in spec["layout"]["title"]["text"]


@pytest.mark.slow
def test_embeddings_from_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVLENS_DATA_ROOTS", str(tmp_path))
    for i in range(30):
        (tmp_path / f"d{i % 3}").mkdir(exist_ok=True)
        (tmp_path / f"d{i % 3}" / f"{i}.png").write_bytes(digit_png(i))
    (tmp_path / "notes.txt").write_text("skip me")
    at = open_page("embeddings")
    at.selectbox(key="embeddings-collection|digits_cnn").set_value("folder").run()
    at.text_input(key="embeddings-folder").input(str(tmp_path)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("30 images, 3 labels, 1 files skipped" in c.value for c in at.caption)
    scatter = charts(at)[0]
    assert [trace["name"] for trace in scatter["data"]] == ["d0 (10)", "d1 (10)", "d2 (10)", "chosen image"]


def test_filters_page_on_the_digits_model() -> None:
    at = open_page("filters")
    assert not at.error
    spec = charts(at)[0]
    assert "conv1: 16 of 16 filters as grey" in spec["layout"]["title"]["text"]
    at.selectbox(key="filters-layer|digits_cnn").set_value("conv3").run()
    assert not at.exception
    spec = charts(at)[0]
    assert "conv3: 64 filters (rows) × 16 input channels (columns)" in spec["layout"]["title"]["text"]
    assert spec["data"][0]["type"] == "heatmap" and spec["data"][0]["zmid"] == 0


def test_a_folder_outside_the_allowed_roots_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    allowed, other = tmp_path / "data", tmp_path / "private"
    for folder in (allowed, other):
        folder.mkdir()
        (folder / "0.png").write_bytes(digit_png(0))
    monkeypatch.setenv("CONVLENS_DATA_ROOTS", str(allowed))
    at = open_page("patches")
    at.selectbox(key="patches-collection|digits_cnn").set_value("folder").run()
    for attempt in (str(other), str(allowed / ".." / "private")):
        at.text_input(key="patches-folder").input(attempt).run()
        assert not at.exception
        assert any("outside the folders this dashboard may read" in e.value for e in at.error), [e.value for e in at.error]
