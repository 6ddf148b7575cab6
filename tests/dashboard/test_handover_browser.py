"""In a real browser: 'Download results' gives a zip that reproduces, and 'Add to report' ends in an HTML file."""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

import viz_core as vc
from tools.screenshot import CHROMIUM, LAUNCH_ARGS, streamlit_server, wait_idle

HAVE_BROWSER = Path(CHROMIUM).exists() or shutil.which("chromium") is not None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_BROWSER and not os.environ.get("CONVLENS_REQUIRE_BROWSER"), reason="Chromium is not installed"),
]


def test_downloaded_results_reproduce_and_the_report_downloads(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
            page.goto(f"{url}/occlusion?model=digits_cnn&occ-patch=16", wait_until="domcontentloaded")
            button = page.get_by_role("button", name="Download results")
            button.wait_for(timeout=180_000)
            wait_idle(page)
            with page.expect_download(timeout=120_000) as download:
                button.click()
            zipped = tmp_path / download.value.suggested_filename
            download.value.save_as(zipped)
            page.get_by_role("button", name="Add to report").click()
            wait_idle(page)
            page.locator('[data-testid="stSidebarNavViewButton"]').click()
            page.get_by_role("link", name="Report", exact=True).click()
            report_button = page.get_by_role("button", name="Download report (HTML)")
            report_button.wait_for(timeout=60_000)
            wait_idle(page)
            with page.expect_download(timeout=120_000) as download:
                report_button.click()
            html = tmp_path / "report.html"
            download.value.save_as(html)
        finally:
            browser.close()
    assert zipped.name == "occlusion.zip"
    record = json.loads(zipfile.ZipFile(zipped).read("manifest.json"))
    assert "/occlusion?" in record["url"] and "model=digits_cnn" in record["url"] and "occ-patch=16" in record["url"]
    assert record["results"]["result"]["params"]["patch"] == 16
    assert vc.reproduce(zipped).exact
    text = html.read_text()
    assert "Occlusion" in text and "patch: 16" in text and 'class="figure"' in text


def test_clicking_a_cka_cell_shows_those_two_layers(tmp_path: Path) -> None:
    """Plotly clicks only exist in a browser: a click on a CKA cell must switch the paired embeddings."""
    from playwright.sync_api import sync_playwright

    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 3600})
            page.goto(f"{url}/compare?model=digits_cnn&cmp-model-1=digits_cnn&cmp-cka-limit=64", wait_until="domcontentloaded")
            run = page.get_by_role("button", name="Compute CKA")
            run.wait_for(timeout=180_000)
            wait_idle(page)
            run.click()
            page.get_by_text("CKA(", exact=False).first.wait_for(timeout=120_000)
            wait_idle(page)
            default = page.get_by_text("CKA(", exact=False).first.inner_text()
            matrix = page.locator('[data-testid="stPlotlyChart"]', has_text="Linear CKA over")
            cells = matrix.locator(".scatterlayer .trace").first.locator("path.point")
            side = int(round(cells.count() ** 0.5))
            cells.nth(side - 1).click(force=True)  # row 0, last column
            wait_idle(page)
            clicked = page.get_by_text("CKA(", exact=False).first.inner_text()
            pair = page.locator('[data-testid="stPlotlyChart"]', has_text="Select images in one map")
            titles = pair.locator(".gtitle, .annotation-text").all_text_contents()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(tmp_path / "cka.png"), full_page=True)
        finally:
            browser.close()
    assert default.startswith("CKA(act4, act4) = 1.000")
    assert clicked.startswith("CKA(act1, act4)") and not clicked.endswith("1.000"), clicked
    assert "digits_cnn: act1" in titles and "digits_cnn: act4" in titles, titles
