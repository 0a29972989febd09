"""The fault matrix: every source pulled through every fault of its emulator ends with raw
tables identical to a clean pull (record for record, content included) or fails at once with a
message that names the source, the endpoint and the fix, and its re-run is then identical. A
pull killed with SIGKILL between pages and run again is identical too. Never a lost or a
duplicated record (DESIGN.md section 5).

The comparison is on the raw tables: they are what every later stage is built from, and the
one end-to-end run with faults (`tests/test_fault_run.py`) shows the marts follow them."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.http import SourceError
from ingestion.pull import PullResult, pull_source
from ingestion.raw import table_name
from ingestion.settings import Settings
from ingestion.sources import ENTITIES
from sandbox.server import CREDENTIALS, SandboxHandle

SOURCES = ("zendesk", "matomo", "moodle", "kobo")
NOW = datetime(2025, 2, 1, tzinfo=UTC)
"""Pulls run as of this date: Matomo asks for each day up to it, one month instead of the
two years up to today (the sample's data ends in 2025)."""
REPO = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("fault-matrix")
PAGE_SIZES = {"zendesk": 100, "matomo": 4, "kobo": 30}
"""Small pages, so that every paged listing of the small sample has several and the faults
fall between pages (Zendesk's is the emulator's, the others' the connectors')."""

TRANSIENT = [  # fault, count, options: each retried within the pull
    ("rate_limit_burst", 3, {}),
    ("server_error", 2, {}),
    ("timeout", 1, {"delay": 3}),
    ("truncated_json", 1, {}),
    ("malformed_json", 2, {}),
    ("repeat_page", 2, {}),
]
Snapshot = dict[str, list[tuple]]


def _settings(data_dir: Path, sandbox: SandboxHandle, **overrides: str) -> Settings:
    return Settings.from_env({"SAYPRO_DATA_DIR": str(data_dir),
                              "SAYPRO_START_DATE": "2025-01-01", **sandbox.env(), **overrides})


def _snapshot(settings: Settings, source: str) -> Snapshot:
    """Every record of the source's raw tables, and what was set aside."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        out = {table_name(s, e): con.execute(
            f"SELECT record_key, record::VARCHAR FROM {table_name(s, e)} ORDER BY ALL"
        ).fetchall() for s, e in ENTITIES if s == source}
        for aux in ("raw._unkeyed_records", "raw._unreadable_records"):
            out[aux] = con.execute(f"SELECT count(*) FROM {aux} WHERE source = ?",
                                   [source]).fetchall()
    return out


def _pull(settings: Settings, source: str) -> PullResult:
    return pull_source(source, settings, LOG, now=NOW)


@pytest.fixture(scope="module", autouse=True)
def small_pages(sandbox: SandboxHandle) -> Iterator[None]:
    from ingestion.sources import kobo, matomo

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sandbox.apps["zendesk"], "page_size", PAGE_SIZES["zendesk"])
        patch.setattr(matomo, "PAGE_SIZE", PAGE_SIZES["matomo"])
        patch.setattr(kobo, "PAGE_SIZE", PAGE_SIZES["kobo"])
        yield


@pytest.fixture(scope="module")
def clean(sandbox: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> dict[str,
                                                                                    Snapshot]:
    """Each source pulled with no fault: the reference."""
    for source in SOURCES:
        sandbox.faults(source).clear()
    out = {}
    for source in SOURCES:
        settings = _settings(tmp_path_factory.mktemp(f"clean-{source}"), sandbox)
        result = _pull(settings, source)
        out[source] = _snapshot(settings, source)
        assert all(out[source][t] for t in out[source]), f"{source}: an empty raw table"
        if source != "moodle":  # Moodle has no paging: one call per course or student
            assert max(p.pages for p in result.entities.values()) > 3, source
    return out


def _assert_no_duplicates(snapshot: Snapshot) -> None:
    for table, rows in snapshot.items():
        keys = [r[0] for r in rows if table.startswith("raw.") and len(r) == 2]
        assert len(keys) == len(set(keys)), table


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(("fault", "count", "options"), TRANSIENT,
                         ids=[f[0] for f in TRANSIENT])
def test_transient_fault_ends_identical_to_a_clean_pull(
        source: str, fault: str, count: int, options: dict, clean: dict[str, Snapshot],
        clean_sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestion import http

    monkeypatch.setattr(http, "DEFAULT_TIMEOUT", (2.0, 1.0))  # the 3 s timeout fault times out
    settings = _settings(tmp_path, clean_sandbox)
    clean_sandbox.faults(source).set(fault, count, **options)
    result = _pull(settings, source)
    assert clean_sandbox.faults(source).counts[fault] == 0, "the fault never happened"
    snapshot = _snapshot(settings, source)
    _assert_no_duplicates(snapshot)
    assert snapshot == clean[source]
    retries = sum(p.retries for p in result.entities.values())
    rejected = sum(p.rejected_pages for p in result.entities.values())
    if fault == "repeat_page":
        assert retries == 0
    else:
        assert retries >= 1
    assert (rejected >= 1) == (fault in ("truncated_json", "malformed_json"))


@pytest.mark.parametrize("source", SOURCES)
def test_schema_drift_lands_every_record_as_sent(source: str, clean: dict[str, Snapshot],
                                                 clean_sandbox: SandboxHandle,
                                                 tmp_path: Path) -> None:
    """A new field in the first response's first record: the same records under the same keys,
    that one carrying the field as sent (validation warns about it, tests/quality)."""
    settings = _settings(tmp_path, clean_sandbox)
    clean_sandbox.faults(source).set("schema_drift", 1, drift="new_field")
    _pull(settings, source)
    snapshot = _snapshot(settings, source)
    drifted = []
    for table, rows in clean[source].items():
        assert [r[0] for r in snapshot[table]] == [r[0] for r in rows], table
        drifted += [got for got, want in zip(snapshot[table], rows, strict=True) if got != want]
    assert len(drifted) == 1 and '"added_by_vendor_upgrade"' in drifted[0][1]


ENDPOINTS = {"zendesk": "/api/v2/", "matomo": "/index.php", "moodle": "server.php",
             "kobo": "/api/v2/assets/"}


@pytest.mark.parametrize("source", SOURCES)
def test_wrong_credentials_fail_at_once_and_clearly(source: str, clean_sandbox: SandboxHandle,
                                                    tmp_path: Path) -> None:
    variable = {"zendesk": "ZENDESK_API_TOKEN", "matomo": "MATOMO_TOKEN",
                "moodle": "MOODLE_TOKEN", "kobo": "KOBO_TOKEN"}[source]
    settings = _settings(tmp_path, clean_sandbox, **{variable: "wrong-secret-123"})
    started = time.perf_counter()
    with pytest.raises(SourceError) as excinfo:
        _pull(settings, source)
    message = str(excinfo.value)
    assert time.perf_counter() - started < 5, "a permanent failure is not retried"
    assert message.startswith(f"{source}:") and ENDPOINTS[source] in message
    assert "check" in message.lower() and "wrong-secret-123" not in message
    assert not (tmp_path / "state" / "cursors").exists() or not any(
        (tmp_path / "state" / "cursors").iterdir())


@pytest.mark.parametrize("source", SOURCES)
def test_vendor_error_mid_pull_fails_clearly_and_the_rerun_is_identical(
        source: str, clean: dict[str, Snapshot], clean_sandbox: SandboxHandle,
        tmp_path: Path) -> None:
    """A vendor error body (HTTP 200 for Matomo and Moodle) after the first pages landed:
    the pull stops at once naming the source and endpoint; the next run resumes from the
    cursors of what landed and ends identical to a clean pull."""
    settings = _settings(tmp_path, clean_sandbox)
    clean_sandbox.faults(source).set("vendor_error", 1, after=3)
    with pytest.raises(SourceError) as excinfo:
        _pull(settings, source)
    message = str(excinfo.value)
    assert message.startswith(f"{source}:") and ENDPOINTS[source] in message
    assert any(token in message for token in ("check", "grant", "Check"))
    assert not any(secret in message for secret in CREDENTIALS.values() if "token" in secret)
    assert list((tmp_path / "landing" / source).rglob("*.meta.json")), "nothing landed first"
    _pull(settings, source)
    assert _snapshot(settings, source) == clean[source]


KILLED_PULL = f"""
import logging, sys
from datetime import datetime, UTC
from ingestion.sources import kobo, matomo
from ingestion.pull import pull_source
from ingestion.settings import Settings
matomo.PAGE_SIZE, kobo.PAGE_SIZE = {PAGE_SIZES["matomo"]}, {PAGE_SIZES["kobo"]}
pull_source(sys.argv[1], Settings.from_env(), logging.getLogger("killed"),
            now=datetime.fromisoformat(sys.argv[2]))
"""


@pytest.mark.parametrize("source", SOURCES)
def test_pull_killed_between_pages_resumes_identical(source: str, clean: dict[str, Snapshot],
                                                     clean_sandbox: SandboxHandle,
                                                     tmp_path: Path) -> None:
    """A pull in its own process, slowed down by the emulator, killed with SIGKILL once its
    first pages have landed; the next pull ends identical to a clean one."""
    settings = _settings(tmp_path, clean_sandbox)
    clean_sandbox.faults(source).set("slow", 1, delay=0.3)
    env = {**os.environ, **settings.env, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_PULL, source, NOW.isoformat()],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    landing = tmp_path / "landing" / source
    deadline = time.monotonic() + 60
    while len(list(landing.rglob("*.meta.json"))) < 2:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "no page landed in 60 s"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    killed_pages = len(list(landing.rglob("*.meta.json")))
    clean_sandbox.faults(source).clear()
    result = _pull(settings, source)
    assert sum(p.pages for p in result.entities.values()) > 0
    assert killed_pages >= 2
    snapshot = _snapshot(settings, source)
    _assert_no_duplicates(snapshot)
    assert snapshot == clean[source]
