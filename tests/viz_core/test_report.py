"""The HTML report: one self-contained file that renders every figure offline, in a real browser."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

import viz_core as vc
from tools.screenshot import CHROMIUM, LAUNCH_ARGS

HAVE_BROWSER = Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture(scope="module")
def digits() -> vc.LoadedModel:
    return vc.load_model("digits_cnn")


@pytest.fixture(scope="module")
def items(digits: vc.LoadedModel) -> list[vc.ReportItem]:
    digit = vc.collection("digits").load(0)
    saliency = vc.report_item(
        {"vanilla": vc.backprop(digits, digit, 0), "cam": vc.grad_cam(digits, digit, 0)},
        digits, digit, title="Why a 0", caption="Vanilla gradient & Grad-CAM <b>not bold</b>", image_name="digit 0",
    )
    occlusion = vc.report_item(vc.occlusion(digits, digit, vc.class_prob(0), patch=8, stride=8), digits, digit, title="Occlusion")
    dream = vc.report_item(vc.class_model(digits, 4, steps=4), digits, title="A class model of 4")
    return [saliency, occlusion, dream]


def test_report_is_one_self_contained_page(items: list[vc.ReportItem]) -> None:
    page = vc.report_html(items, title="Digits")
    assert page.count("<script") == 1 + 4  # Plotly once, then one call per figure
    plotly_js = page[page.index("<script") : page.index("</script>")]  # links inside Plotly's own code (its logo) are never followed offline
    assert not re.search(r"""(src|href)=["']https?://""", page.replace(plotly_js, ""))  # nothing is fetched
    assert "data:image/png;base64," in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page  # captions are text, not markup
    assert "target class 0" in page and "patch: 8" in page  # the caption lists the parameters
    assert page.index("Why a 0") < page.index("Occlusion") < page.index("A class model of 4")
    with pytest.raises(vc.ReportError, match="empty"):
        vc.report_html([])


def test_captions_and_thumbnails(items: list[vc.ReportItem], digits: vc.LoadedModel) -> None:
    assert items[0].image is not None and items[0].image.shape == (8, 8, 3)
    assert items[2].image is None  # a class model has no input
    edited = items[1].with_caption("new words")
    assert edited.caption == "new words" and edited.id == items[1].id and items[1].caption == ""
    large = vc.report_item(vc.backprop(digits, vc.sample_image("rocket"), 1), digits, vc.sample_image("rocket"), title="t")
    assert max(large.image.shape[:2]) == 256  # type: ignore[union-attr]


@pytest.mark.browser
@pytest.mark.skipif(not HAVE_BROWSER and not os.environ.get("CONVLENS_REQUIRE_BROWSER"), reason="Chromium is not installed")
def test_the_report_renders_every_figure_offline_in_chromium(items: list[vc.ReportItem], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_text(vc.report_html(items), encoding="utf-8")
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
            context.route(re.compile(r"^(?!file:|data:).*"), lambda route: (requested.append(route.request.url), route.abort()))
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4", timeout=30_000)
            drawn = page.evaluate("Array.from(document.querySelectorAll('.figure')).map(f => f.querySelectorAll('.js-plotly-plot .main-svg').length > 0)")
            images = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert drawn == [True] * 4 and images == [True, True] and not errors and not requested
    assert Image.open(tmp_path / "report.png").size[0] == 1200
