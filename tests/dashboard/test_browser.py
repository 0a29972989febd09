"""`saypro dashboard` in a real browser: Debian's headless Chromium driven by Playwright
(`executable_path`, no browser download) against the demo's exports. Each page loads without
console errors and shows real content; a segment picked in the sidebar changes the chart's
data (its CSV download); the resulting link, opened afresh, reproduces the view. Screenshots
are kept in test-artefacts/screenshots/."""

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[2]
SAYPRO = Path(sys.executable).with_name("saypro")
ARTEFACTS = REPO / "test-artefacts" / "screenshots"
# URL path -> text that shows the page rendered real content
PAGES = {"": "Course completion rate", "segments": "Side by side · 2025-08",
         "root_causes": "Recurring issues", "corrective_actions": "One action over time",
         "experiments": re.compile("No experiments yet|Exposures"),
         "data_quality": "Validation runs"}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`saypro dashboard` on a free loopback port, serving the demo's exports."""
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = clean_env(demo_dir) | {"SAYPRO_DASHBOARD_PORT": str(port)}
    with log.open("w") as out:
        server = subprocess.Popen([str(SAYPRO), "dashboard"], cwd=log.parent, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, ("headless Chromium is required: `make test` installs it, "
                      "or `sudo apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _open(browser, url: str, text: str | re.Pattern[str], errors: list[str]):
    """A new tab on `url`, once `text` shows and the page has finished running."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400}, accept_downloads=True)

    def on_console(message) -> None:
        # Streamlit probes for a base path: on a page's own URL it asks for
        # /<page>/_stcore/health and /host-config before the root ones (404, then fine).
        where = message.location.get("url", "")
        if message.type == "error" and "/_stcore/" not in where:
            errors.append(f"{url}: {message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{url}: {error}"))
    page.goto(url)
    page.get_by_text(text).first.wait_for(timeout=60_000)
    _settle(page)
    return page


def _settle(page) -> None:
    """Wait for the script run to finish (Streamlit's running indicator gone)."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(500)


def _download(page, label_index: int) -> pd.DataFrame:
    """The CSV behind the page's `label_index`-th download button."""
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").nth(label_index).locator("button").click()
    return pd.read_csv(StringIO(Path(download.value.path()).read_text()))


@pytest.mark.slow
def test_every_page_loads_in_chromium(browser, dashboard_url: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for path, text in PAGES.items():
        # area: the overview's programme tiles (other pages drop it from the URL)
        page = _open(browser, f"{dashboard_url}/{path}?period=2025-08&area=learning", text,
                     errors)
        assert "Traceback" not in page.content()
        page.screenshot(path=str(ARTEFACTS / f"dashboard_{path or 'overview'}.png"))
        page.close()
    assert not errors, errors


@pytest.mark.slow
def test_segment_pick_and_shared_link_in_chromium(browser, dashboard_url: str) -> None:
    errors: list[str] = []
    page = _open(browser, f"{dashboard_url}/segments", "Side by side", errors)
    everyone = _download(page, 1)  # 0: side by side, 1: trends
    assert set(everyone["segment_id"]) == {"all"}

    picker = page.get_by_test_id("stMultiSelect").locator("input")
    picker.click()
    picker.fill("Youth aged")
    page.keyboard.press("Enter")
    page.wait_for_url("**segment=youth_18_34**", timeout=60_000)
    _settle(page)
    youth = _download(page, 1)
    assert set(youth["segment_id"]) == {"youth_18_34"}
    assert not youth[["period_start", "value"]].equals(everyone[["period_start", "value"]])
    page.screenshot(path=str(ARTEFACTS / "dashboard_segments_youth.png"))

    link = page.url
    again = _open(browser, link, "Side by side", errors)
    assert again.url == link
    assert _download(again, 1).equals(youth)
    assert not errors, errors
