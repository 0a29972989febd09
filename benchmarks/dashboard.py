"""How fast the dashboard's pages render (goal: under 2 s each at scale 10).

`python -m benchmarks.dashboard DATA_DIR` prints, per page, the seconds of the page's script
run in Streamlit's AppTest with empty query caches (cold) and again (warm, cached), and the
seconds a headless Chromium takes from opening the page's URL on `saypro dashboard` to the
page showing its content with the script run finished (each page's first visit; median of
three freshly started servers). The `dashboard` stage of `make bench` runs it on the stage's
exports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
# page script -> (URL path, text showing the page rendered its content)
PAGES = {
    "views/overview.py": ("", "Gaps against targets"),
    "views/segments.py": ("segments", "Side by side"),
    "views/root_causes.py": ("root_causes", "Recurring issues"),
    "views/corrective_actions.py": ("corrective_actions", "One action over time"),
    "views/experiments.py": ("experiments", "No experiments yet|Exposures"),
    "views/data_quality.py": ("data_quality", "Validation runs"),
}
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def script_seconds(data_dir: Path) -> dict[str, dict[str, float]]:
    """Per page: cold (query caches cleared) and warm seconds of the script run in AppTest."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["SAYPRO_DATA_DIR"] = str(data_dir)
    AppTest.from_file(str(APP), default_timeout=120).run()  # imports, as a started server has
    figures = {}
    for page in PAGES:
        seconds = []
        st.cache_data.clear()
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.switch_page(page)
        for _ in range(2):
            started = time.perf_counter()
            at.run()
            seconds.append(time.perf_counter() - started)
            if at.exception:
                raise RuntimeError(f"{page}: {at.exception[0].value}")
        figures[page] = {"cold_s": seconds[0], "warm_s": seconds[1]}
    return figures


def browser_seconds(data_dir: Path) -> dict[str, float] | None:
    """Per page: seconds from opening its URL to its content shown with the run finished, in
    headless Chromium, on a freshly started `saypro dashboard` whose first session (the
    server's one-time imports) is `start`; None without Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = os.environ | {"SAYPRO_DATA_DIR": str(data_dir), "SAYPRO_DASHBOARD_PORT": str(port)}
    server = subprocess.Popen([str(Path(sys.executable).with_name("saypro")), "dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    figures = {}
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS)
            # the experiments page first: it shares none of the other pages' queries
            visits = [("start", *PAGES["views/experiments.py"]), *(
                (page, path, text) for page, (path, text) in PAGES.items())]
            for name, path, text in visits:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                started = time.perf_counter()
                page.goto(f"{base}/{path}")
                page.get_by_text(re.compile(text)).first.wait_for(timeout=60_000)
                page.wait_for_function(
                    "!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                    timeout=60_000, polling=50)
                figures[name] = time.perf_counter() - started
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def measure(data_dir: Path, rounds: int = 3) -> dict:
    """Both measures (the median of `rounds` fresh servers in the browser), and the slowest
    page of each."""
    pages: dict[str, dict[str, float]] = script_seconds(data_dir)
    runs = [browser_seconds(data_dir) for _ in range(rounds)]
    start = None
    if all(runs):
        for page in pages:
            pages[page]["browser_s"] = statistics.median(run[page] for run in runs)
        start = statistics.median(run["start"] for run in runs)
    slowest = {kind: max(p.get(kind, 0.0) for p in pages.values())
               for kind in ("cold_s", "warm_s", "browser_s")}
    return {"pages": pages, "slowest": slowest, "server_first_visit_s": start,
            "browser_rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="a data dir with exports/")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.data_dir.resolve())
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{'page':<30} {'cold s':>8} {'warm s':>8} {'browser s':>10}")
    for page, f in figures["pages"].items():
        browser = f"{f['browser_s']:10.2f}" if "browser_s" in f else f"{'-':>10}"
        print(f"{page:<30} {f['cold_s']:8.2f} {f['warm_s']:8.2f} {browser}")
    if figures["server_first_visit_s"] is not None:
        print(f"first visit after the server started (its one-time imports): "
              f"{figures['server_first_visit_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
