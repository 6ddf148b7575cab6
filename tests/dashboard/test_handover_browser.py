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
