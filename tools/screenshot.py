"""Screenshot dashboard pages in headless Chromium, as a user would see them.

    .venv/bin/python tools/screenshot.py --out /tmp/shots predictions layers
    .venv/bin/python tools/screenshot.py --out /tmp/shots --click "Run" --query model=digits_cnn saliency

Starts `streamlit run dashboard/app.py` on a free localhost port (unless --url is given), opens each
page (its url path is the page file's stem), optionally clicks a button by its label, waits until
the app is idle, reports any exception shown in the page, and saves a full-page PNG.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(port: int | None = None, timeout: float = 90.0) -> Iterator[str]:
    """Run the dashboard headless on localhost; yields its base URL; stops it afterwards."""
    port = port or free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
            time.sleep(0.5)
        else:
            raise TimeoutError("streamlit did not become healthy")
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def wait_idle(page, timeout_ms: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit's 'running' indicator has gone (and stayed gone briefly)."""
    page.wait_for_timeout(1500)
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            return
        page.wait_for_timeout(300)


def shoot(base_url: str, pages: list[str], out: Path, click: str | None, query: str, width: int, height: int) -> int:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        for name in pages:
            path = "" if name in ("", "predictions") else name
            page.goto(f"{base_url}/{path}{'?' + query if query else ''}", wait_until="domcontentloaded")
            page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
            wait_idle(page)
            if click:
                page.get_by_role("button", name=click).first.click()
                wait_idle(page, timeout_ms=300_000)
            errors = page.locator('[data-testid="stException"]').all_inner_texts()
            alerts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
            target = out / f"{name or 'predictions'}.png"
            page.screenshot(path=str(target), full_page=True)
            status = "EXCEPTION" if errors else ("error shown" if alerts else "ok")
            failures += bool(errors)
            print(f"{target}: {status} {(errors or alerts)[:1]}")
        browser.close()
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", default=["predictions"], help="page url paths (file stems)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/convlens-shots"))
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--click", help="label of a button to click after the page loads")
    parser.add_argument("--query", default="", help="query string, e.g. model=digits_cnn")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1800, help="Streamlit scrolls inside the page: a tall viewport shows it all")
    args = parser.parse_args()
    if args.url:
        sys.exit(shoot(args.url, args.pages, args.out, args.click, args.query, args.width, args.height))
    with streamlit_server() as url:
        sys.exit(shoot(url, args.pages, args.out, args.click, args.query, args.width, args.height))


if __name__ == "__main__":
    main()
