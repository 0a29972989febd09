"""Hostile drop files through the real CLI, and a second run started while the first works.

One `saypro run` over the sample's drop files plus damage of every kind (a truncated line, a
file that is not UTF-8, an empty file, a binary file, a record without its key, a key of the
wrong type, an unparsable timestamp, an unknown code, a 1 MB text field, a file name with
spaces and shell characters) and `<script>` payloads in free text; while it runs, a second
`saypro run` on the same data dir. The first finishes and counts what it set aside per source,
the second stops at once naming it, and the reports show the payloads as text."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, SAYPRO, clean_env

SCRIPT = "<script>alert('saypro')</script>"
SHELL_NAME = "late export; rm -rf ~ $(id) `id` 'q' & co.jsonl"
PAGE = f"https://saypro.online/{SCRIPT}"  # reports show the URL (DESIGN.md section 6)


@dataclass
class HostileRun:
    data_dir: Path
    stdout: str
    stderr: str
    returncode: int
    second: subprocess.CompletedProcess[str]
    second_seconds: float
    first_pid: int


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _write(path: Path, records: list[dict | bytes]) -> None:
    path.write_bytes(b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n"
                              for r in records))


def _damage(drop: Path) -> None:
    """Damage of every kind, added to the sample's drop files (ids 990000+ are new)."""
    january = drop / "zendesk" / "tickets" / "2025-01.jsonl"
    lines = january.read_bytes().splitlines(keepends=True)
    lines[5] = lines[5][:80] + b"\n"  # a truncated line among the month's tickets
    january.write_bytes(b"".join(lines))
    base = _lines(drop / "zendesk" / "tickets" / "2025-02.jsonl")[0] | {
        "created_at": "2025-01-20T10:00:00Z", "updated_at": "2025-01-20T11:00:00Z",
        "status": "open"}
    keyless = {k: v for k, v in base.items() if k != "id"}
    _write(drop / "zendesk" / "tickets" / SHELL_NAME, [
        base | {"id": 990001, "via": {"channel": SCRIPT}, "subject": SCRIPT},
        base | {"id": 990002, "subject": "x" * 2**20},  # a 1 MB text field is just read
        base | {"id": "abc"},  # a key of the wrong type
        base | {"id": 990003, "created_at": "yesterday"},  # an unparsable timestamp
        base | {"id": 990004, "status": SCRIPT},  # an unknown code
        keyless])  # a record without its key
    articles = drop / "zendesk" / "articles" / "articles.jsonl"
    _write(articles, [*_lines(articles), _lines(articles)[0] | {"id": 990005, "title": SCRIPT}])
    feedback = _lines(drop / "kobo" / "feedback" / "feedback.jsonl")[0]
    (drop / "kobo" / "feedback" / "windows export.jsonl").write_bytes(
        json.dumps(feedback | {"_id": 990006, "group_fb/comment": f"Très bien {SCRIPT}"},
                   ensure_ascii=False).encode("cp1252") + b"\n")
    (drop / "kobo" / "feedback" / "empty.jsonl").write_bytes(b"")
    (drop / "kobo" / "registration" / "backup.json").write_bytes(bytes(range(256)) * 8)
    day = drop / "matomo" / "visits" / "2025-01-15.jsonl"
    visit = _lines(day)[0]
    _write(day, [*_lines(day), *(visit | {
        "idVisit": 990100 + n, "actions": 1,
        "actionDetails": [{"type": "action", "url": PAGE, "timestamp":
                           visit["firstActionTimestamp"]}]} for n in range(40))])


@pytest.fixture(scope="module")
def hostile_run(sandbox_data: Path, tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    drop = tmp_path_factory.mktemp("hostile") / "drop"
    shutil.copytree(sandbox_data, drop)
    _damage(drop)
    data_dir = tmp_path_factory.mktemp("hostile-data")
    env = clean_env(data_dir) | {"SAYPRO_DROP_DIR": str(drop), "SAYPRO_PII_SALT": "test-salt"}
    command = [str(SAYPRO), "run", "--from", "2025-01", "--to", "2025-01"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    lock = data_dir / ".lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and f"pid {first.pid}" in lock.read_text()):
        assert first.poll() is None and time.monotonic() < deadline, "the run did not start"
        time.sleep(0.2)
    started = time.monotonic()
    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    second_seconds = time.monotonic() - started
    stdout, stderr = first.communicate(timeout=1800)
    return HostileRun(data_dir, stdout, stderr, first.returncode, second, second_seconds,
                      first.pid)


def _query(run: HostileRun, sql: str) -> list[tuple]:
    with duckdb.connect(str(run.data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_a_second_run_stops_at_once_and_the_first_finishes_intact(
        hostile_run: HostileRun, sandbox_data: Path) -> None:
    second = hostile_run.second
    assert second.returncode == 1 and hostile_run.second_seconds < 60
    assert second.stderr.startswith(
        f"saypro run: another saypro command is writing to {hostile_run.data_dir} "
        f"(pid {hostile_run.first_pid}: `saypro run --from 2025-01 --to 2025-01`")
    assert hostile_run.returncode == 0, hostile_run.stderr[-5000:]
    # nothing lost or doubled: every readable ticket of the sample once, the new ones beside
    sample = {str(t["id"]) for path in (sandbox_data / "zendesk" / "tickets").glob("*.jsonl")
              for t in _lines(path)}
    truncated = str(_lines(sandbox_data / "zendesk" / "tickets" / "2025-01.jsonl")[5]["id"])
    keys = [k for (k,) in _query(hostile_run, "SELECT record_key FROM raw.zendesk__tickets")]
    assert len(keys) == len(set(keys))
    assert set(keys) == sample - {truncated} | {"990001", "990002", "abc", "990003", "990004"}
    assert _query(hostile_run, "SELECT count(*) FROM marts.fct_tickets "
                               "WHERE ticket_id IN (990001, 990002)") == [(2,)]


@pytest.mark.slow
def test_what_was_set_aside_is_counted_per_source(hostile_run: HostileRun) -> None:
    out = hostile_run.stdout
    summary = out[out.index("Set aside (kept out of the marts"):]
    assert "  kobo: 0 quarantined by a rule, 1 unreadable" in summary
    zendesk = next(line for line in summary.splitlines() if line.startswith("  zendesk:"))
    assert ", 1 unreadable (raw._unreadable_records" in zendesk
    assert ", 1 without a key (raw._unkeyed_records)" in zendesk
    reasons = dict(_query(hostile_run, """
        SELECT rule, reason FROM quality.quarantine
        WHERE source = 'zendesk' AND (record_key IS NULL OR record_key LIKE '99000_'
                                      OR record_key = 'abc')"""))
    assert reasons["record_readable"].startswith("2025-01.jsonl line 6: not valid JSON")
    assert reasons["record_key_present"].startswith(f"{SHELL_NAME} record 6: no `id`")
    assert reasons["id_type"] == "id 'abc' is not an integer"
    assert reasons["created_at_type"] == "created_at 'yesterday' is not a timestamp"
    assert reasons["status_accepted_values"].startswith("status '<script>")
    [backup] = _query(hostile_run, "SELECT reason FROM quality.quarantine WHERE source = 'kobo'")
    assert backup[0].startswith("backup.json line 1: file not read: not valid JSON")
    assert _query(hostile_run, "SELECT record->>'$.group_fb/comment' FROM raw.kobo__feedback "
                               "WHERE record_key = '990006'") == [(f"Très bien {SCRIPT}",)]
    [report] = (hostile_run.data_dir / "quality").glob("validation_*.html")
    html = report.read_text()
    table = html[html.index('id="set-aside"'):html.index("<h2>Entities")]
    assert "<td>kobo</td>" in table and "<td>zendesk</td>" in table
    assert "&lt;script&gt;" in html and "<script" not in html


@pytest.mark.slow
def test_free_text_from_the_sources_is_escaped_in_the_reports(hostile_run: HostileRun) -> None:
    reports = hostile_run.data_dir / "reports"
    html = (reports / "support_monthly_2025-01.html").read_text()
    md = (reports / "support_monthly_2025-01.md").read_text()
    escaped = "&lt;script&gt;alert(&#39;saypro&#39;)&lt;/script&gt;"
    assert f"<td>{escaped}</td>" in html  # the ticket's channel
    assert f"<td>https://saypro.online/{escaped}</td>" in html  # the visits' landing page
    assert "| &lt;script&gt;alert('saypro')&lt;/script&gt; | 1 |" in md
    assert "| https://saypro.online/&lt;script&gt;alert('saypro')&lt;/script&gt; | 40 |" in md
    for path in [*reports.glob("*.html"), *reports.glob("*.md")]:
        assert "<script" not in path.read_text().lower(), path
