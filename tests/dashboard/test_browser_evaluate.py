"""A real browser on the Evaluate page: click a confusion cell, then open a mistake's explanation.

Plotly selection events exist only in a browser, so this is where the drill-down is checked.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import viz_core as vc

from tools.screenshot import wait_idle

from .test_browser import ARTIFACTS, browser_page, pytestmark  # noqa: F401 - the same skip rules and browser

pytestmark = [*pytestmark, pytest.mark.slow]


def test_clicking_a_confusion_cell_and_a_mistake_explains_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "store"))
    m = vc.load_model("digits_cnn")
    ev = vc.evaluate(m, "digits", batch_size=64)
    true, predicted, count = (int(v) for v in ev.confused_pairs[0])
    names = ev.class_names
    with browser_page(2400) as (page, url):
        page.goto(f"{url}/evaluate?model=digits_cnn", wait_until="domcontentloaded")
        page.get_by_role("button", name="Evaluate").wait_for(timeout=120_000)
        page.get_by_role("button", name="Evaluate").click()
        page.get_by_text("Top-1 accuracy").wait_for(timeout=120_000)
        page.get_by_role("tab", name="Confusions").click()
        matrix = page.locator('[data-testid="stPlotlyChart"]', has_text="Confusion matrix")
        matrix.wait_for(timeout=60_000)
        cells = matrix.locator(".scatterlayer .trace").first.locator("path.point")
        side = len(ev.classes)
        assert cells.count() == side * side
        cells.nth(list(ev.classes).index(true) * side + list(ev.classes).index(predicted)).click(force=True)
        shown = page.get_by_text(f"true '{names[true]}', predicted '{names[predicted]}'", exact=False).first
        shown.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stMarkdown"]', has_text=f"{count} images").count() == 1  # the cell's count, as the gallery's size
        page.get_by_role("button", name="Why?").first.click()
        page.get_by_text(f"Why '{names[predicted]}' and not '{names[true]}'?").wait_for(timeout=120_000)
        page.locator('[data-testid="stPlotlyChart"]', has_text="guided backprop").wait_for(timeout=120_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "browser-evaluate-why.png"), full_page=True)
        assert page.get_by_text("Share this image with a colleague").count() == 1
        link = page.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert link.startswith(f"{url}/saliency?") and "img-collection=Digits+" in link, link
        page.get_by_role("button", name="Open in Saliency & backprop").click()
        page.get_by_role("heading", name="Saliency & backprop").wait_for(timeout=120_000)
        wait_idle(page)
        caption = page.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').first.inner_text()
        assert caption.startswith("scikit-learn digits #"), caption
        assert page.locator('[data-testid="stException"]').count() == 0
        colleague = page.context.browser.new_page(viewport={"width": 1400, "height": 1200})  # a new session opens the link
        colleague.goto(link.replace("img-collection=Digits+%28scikit-learn%2C+1%2C797%29", "img-collection=Sample+photo+crops+%28300%29"), wait_until="domcontentloaded")
        colleague.get_by_role("heading", name="Saliency & backprop").wait_for(timeout=120_000)
        wait_idle(colleague)
        index = link.split("img-index=")[1].split("&")[0]
        shared = colleague.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').first.inner_text()
        assert shared.startswith(f"sample photo crops #{index}: "), shared  # the collection and the index both travelled
