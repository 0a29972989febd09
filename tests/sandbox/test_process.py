"""The emulators in a process of their own (`sandbox.process`, used by `saypro demo` and the
benchmarks): they serve the sample until the block ends, then are gone."""

import json
import os
from pathlib import Path

import pytest
import requests

from sandbox.process import sandbox_process
from sandbox.server import CREDENTIALS


def test_serves_the_sample_until_the_block_ends(sandbox_data: Path) -> None:
    with sandbox_process(sandbox_data) as sandbox:
        assert {k for k in sandbox.env if k.endswith("_BASE_URL")} == {
            "ZENDESK_BASE_URL", "MATOMO_BASE_URL", "MOODLE_BASE_URL", "KOBO_BASE_URL"}
        assert sandbox.pid != os.getpid()
        auth = (f"{CREDENTIALS['zendesk_email']}/token", CREDENTIALS["zendesk_token"])
        page = requests.get(sandbox.env["ZENDESK_BASE_URL"]
                            + "/api/v2/incremental/tickets/cursor.json",
                            params={"start_time": 0, "per_page": 1}, auth=auth, timeout=10)
        landed = {json.loads(line)["id"] for path in (sandbox_data / "zendesk" / "tickets")
                  .glob("*.jsonl") for line in path.read_text().splitlines() if line}
        assert page.ok and page.json()["tickets"][0]["id"] in landed
    with pytest.raises(ProcessLookupError):
        os.kill(sandbox.pid, 0)
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.env["ZENDESK_BASE_URL"], timeout=5)
    assert sandbox.stopped["cpu_s"] > 0 and sandbox.stopped["peak_rss_mb"] > 0
    assert set(sandbox.figures()) == {"startup_s", "cpu_s", "peak_rss_mb"}


def test_a_sandbox_that_cannot_start_names_its_data(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "sample"
    not_a_folder.write_text("a file where the sample's folder should be\n")
    with (pytest.raises(RuntimeError, match=r"saypro sandbox --data .*sample` did not start"),
          sandbox_process(not_a_folder)):
        pass
