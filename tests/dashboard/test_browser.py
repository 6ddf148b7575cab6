"""One real browser: `streamlit run` headless, Chromium opens the app, the prediction appears."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tools.screenshot import CHROMIUM, LAUNCH_ARGS, streamlit_server, wait_idle

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
HAVE_BROWSER = Path(CHROMIUM).exists() or shutil.which("chromium") is not None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not HAVE_BROWSER and not os.environ.get("CONVLENS_REQUIRE_BROWSER"),
        reason="Chromium is not installed (apt-get install chromium); set CONVLENS_REQUIRE_BROWSER=1 to make this a failure",
    ),
]


@contextmanager
def browser_page(height: int) -> Iterator[tuple[Any, str]]:
    """A fresh `streamlit run` and a headless Chromium page on it; both closed afterwards."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": height}), url
        finally:
            browser.close()


def test_app_shows_prediction_in_a_real_browser() -> None:
    with browser_page(1000) as (page, url):
        page.goto(url, wait_until="domcontentloaded")
        verdict = page.locator('[data-testid="stMarkdown"]', has_text="Top-1:")
        verdict.wait_for(timeout=120_000)
        wait_idle(page)
        assert "tabby" in verdict.inner_text()
        assert page.locator(".js-plotly-plot").count() >= 2
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "browser-predictions.png"), full_page=True)
        page.locator('[data-testid="stSidebarNavLink"]', has_text="Layers").click()
        page.get_by_text("Spatial size and channels", exact=False).wait_for(timeout=60_000)
        wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "browser-layers.png"), full_page=True)


def test_clicking_the_channel_map_picks_the_neuron_position() -> None:
    """Plotly clicks only exist in a browser: a click on a cell must become the explained position."""
    with browser_page(1600) as (page, url):
        page.goto(f"{url}/saliency", wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stApp"]', timeout=120_000)
        wait_idle(page)
        page.get_by_text("A neuron", exact=True).click()
        wait_idle(page)
        page.get_by_text("One position (else the channel's mean)").click()
        wait_idle(page)
        picker = page.locator('[data-testid="stPlotlyChart"]', has_text="click a cell")
        cells = picker.locator(".scatterlayer .trace").first.locator("path.point")
        side = int(round(cells.count() ** 0.5))  # a square map: one invisible point per cell
        cells.nth(2 * side + 5).click(force=True)  # row 2, column 5
        wait_idle(page)
        assert page.get_by_text("channel 0 (at (2, 5))", exact=False).first.is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "browser-neuron-position.png"), full_page=True)
