"""Adding a fifth source takes four new files and no edit (docs/ARCHITECTURE.md, "Sources").

A copy of the project gains a small CSV-export helpdesk: its declaration and connector
(`ingestion/sources/deskcsv.py`), its quality suite (`quality/suites/deskcsv.py`) and its dbt
staging (`models/staging/deskcsv/`). Nothing else in the copy changes. There, against a local
HTTP server: the Dagster definitions hold its pull asset, its resource and its quality check,
and its staging model reads the pull asset's table; the asset's run lands the export pages
through the landing runner with their cursor; a second pull is incremental; validation runs its
suite and quarantines the one bad row; dbt builds the staging model without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
COPIED = ("ingestion", "quality", "orchestration", "reports", "sandbox", "transforms",
          "dashboard", "dbt_project", "pyproject.toml", "dagster.yaml")
API_KEY = "deskcsv-key-not-a-secret-elsewhere"
ROWS = [  # ticket_id, status, subject, updated_at
    ("1", "open", "Cannot log in", "2025-01-03T10:00:00"),
    ("2", "closed", "Invoice, please", "2025-01-04T11:30:00"),
    ("3", "reslved", "Typo in the status", "2025-01-05T09:15:00"),
    ("4", "open", "Course certificate", "2025-01-06T16:45:00"),
    ("5", "closed", "Password reset", "2025-01-07T08:05:00"),
]
PAGE_ROWS = 2

NEW_FILES = {
    "ingestion/sources/deskcsv.py": '''
"""DeskCSV helpdesk: tickets changed since a time, as CSV export pages."""

from __future__ import annotations

import csv
import io
from ingestion.contract import EntityDeclaration, Page, Pages, SourceContext, SourceDeclaration

PATH = "/export/tickets.csv"


def pages(ctx: SourceContext) -> Pages:
    ctx.client.session.headers["X-Api-Key"] = ctx.credentials.get("DESKCSV_API_KEY")
    since = (ctx.cursors["tickets"] or {}).get("updated_after", f"{ctx.start_date}T00:00:00")
    latest, page = since, 1
    while True:
        params = {"updated_after": since, "page": page}
        body = ctx.client.request_bytes("GET", PATH, params=params)
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        latest = max([latest, *(r["updated_at"] for r in rows)])
        last = len(rows) < int(ctx.credentials.get("DESKCSV_PAGE_ROWS"))
        yield Page("tickets", body, PATH, params, records_path=None, record_count=len(rows),
                   fmt="csv", cursor={"updated_after": latest} if last else None)
        if last:
            break
        page += 1


SOURCE = SourceDeclaration(
    name="deskcsv",
    label="DeskCSV (helpdesk exports)",
    description="DeskCSV helpdesk: CSV exports of the tickets changed since the last pull.",
    entities=(EntityDeclaration("tickets", "record->>'$.ticket_id'"),),
    variables=("DESKCSV_BASE_URL", "DESKCSV_API_KEY", "DESKCSV_PAGE_ROWS"),
    secrets=frozenset({"DESKCSV_API_KEY"}),
    base_url_variable="DESKCSV_BASE_URL",
    credentials_hint="DESKCSV_API_KEY",
    connector=pages,
)
''',
    "quality/suites/deskcsv.py": '''
"""DeskCSV tickets (CSV: every value is text)."""

from quality.spec import EntitySpec, Field, in_set, required, typed_rules, unique

_FIELDS = [
    Field("ticket_id", "$.ticket_id", "int", json_types=("string",)),
    Field("status", "$.status"),
    Field("subject", "$.subject"),
    Field("updated_at", "$.updated_at", "ts"),
]

TICKETS = EntitySpec(
    "deskcsv", "tickets", _FIELDS,
    [unique("record_key"), required("ticket_id"), *typed_rules(_FIELDS),
     in_set("status", ("open", "closed"))],
)

SPECS = [TICKETS]
''',
    "dbt_project/models/staging/deskcsv/_deskcsv.yml": '''
version: 2

sources:
  - name: deskcsv
    schema: raw
    description: DeskCSV helpdesk exports, latest landed version per key.
    tables:
      - name: tickets
        identifier: deskcsv__tickets

models:
  - name: stg_deskcsv__tickets
    description: DeskCSV tickets.
    columns:
      - name: ticket_id
        data_tests: [unique, not_null]
''',
    "dbt_project/models/staging/deskcsv/stg_deskcsv__tickets.sql": '''
select
    try_cast({{ json_text('record', '$.ticket_id') }} as bigint) as ticket_id,
    {{ json_text('record', '$.status') }} as status,
    try_cast({{ json_text('record', '$.updated_at') }} as timestamp) as updated_at
from {{ source('deskcsv', 'tickets') }}
where {{ not_quarantined('deskcsv', 'tickets') }}
''',
}

RUN = '''
import json, logging, os, sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ingestion.pull import pull_source
from ingestion.settings import Settings
from orchestration.definitions import defs
from orchestration.defs.ingestion import SOURCE_ASSETS
from orchestration.resources import build_resources
from quality.validate import validate_all

graph = defs.resolve_asset_graph()
staging = dg.AssetKey(["staging", "stg_deskcsv__tickets"])
resources = build_resources()
run = dg.materialize([SOURCE_ASSETS["deskcsv"]], resources={
    k: resources[k] for k in ("warehouse", "deskcsv")})
settings = Settings.from_env()
again = pull_source("deskcsv", settings, logging.getLogger("again"))
from ingestion.sources import SOURCES
for other in set(SOURCES) - {"deskcsv"}:  # not configured: skipped, empty raw tables
    pull_source(other, settings, logging.getLogger("others"))
results = validate_all(settings.warehouse, run_id="fifth", as_of=datetime.now(UTC),
                       report_dir=settings.quality_dir)
import subprocess
built = subprocess.run(
    [sys.executable, "-m", "dbt.cli.main", "build", "--select", "stg_deskcsv__tickets",
     "dim_source", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project"],
    env={**os.environ, "SAYPRO_PII_SALT": "fifth-source-test"}, capture_output=True, text=True)
import duckdb
with duckdb.connect(str(settings.warehouse), read_only=True) as con:
    staged = sorted(r[0] for r in con.execute(
        "SELECT ticket_id FROM staging.stg_deskcsv__tickets").fetchall())
    keys = sorted(r[0] for r in con.execute("SELECT record_key FROM raw.deskcsv__tickets")
                  .fetchall())
    quarantined = con.execute("SELECT record_key, rule FROM quality.quarantine "
                              "WHERE source = 'deskcsv'").fetchall()
    listed = con.execute("SELECT source, last_pull_mode, raw_records FROM marts.dim_source "
                         "ORDER BY source").fetchall()
landing = Path(settings.data_dir, "landing", "deskcsv", "tickets")
print(json.dumps({
    "pull_asset": [k.to_user_string() for k in SOURCE_ASSETS["deskcsv"].keys],
    "staging_parents": sorted(k.to_user_string() for k in graph.get(staging).parent_keys),
    "checks": sorted(c.name for c in graph.asset_check_keys if "deskcsv" in c.name),
    "resources": sorted(defs.resources),
    "run_success": run.success,
    "metas": sorted(json.loads(p.read_text())["request"]["params"]["page"]
                    for p in landing.rglob("*.meta.json")),
    "formats": sorted({json.loads(p.read_text())["format"] for p in landing.rglob("*.meta.json")}),
    "cursor": json.loads(Path(settings.data_dir, "state/cursors/deskcsv__tickets.json")
                         .read_text()),
    "again": again.entities["tickets"].records,
    "keys": keys,
    "validated": [(r.entity, r.rows_checked, r.rows_quarantined) for r in results
                  if r.source == "deskcsv"],
    "quarantined": quarantined,
    "dbt": built.returncode and built.stdout[-2000:],
    "staged": staged,
    "dim_source": listed,
    "dim_source_parents": sorted(k.to_user_string() for k in graph.get(
        dg.AssetKey(["marts", "dim_source"])).parent_keys),
}))
'''


class _Export(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.headers.get("X-Api-Key") != API_KEY:
            self.send_response(401)
            self.end_headers()
            return
        rows = [r for r in ROWS if r[3] > query["updated_after"]]
        page = int(query["page"])
        chosen = rows[(page - 1) * PAGE_ROWS: page * PAGE_ROWS]
        body = ("ticket_id,status,subject,updated_at\n" + "".join(
            f'{i},{s},"{subject}",{t}\n' for i, s, subject, t in chosen)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def export_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Export)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _files(root: Path) -> dict[str, bytes]:
    skip = ("__pycache__", "dbt_project/target", "dbt_project/logs", "dbt_project/dbt_packages")
    return {str(p.relative_to(root)): p.read_bytes() for name in COPIED
            for p in ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
            if p.is_file() and not any(s in str(p.relative_to(root)) for s in skip)}


def test_a_fifth_source_needs_four_new_files_and_no_edit(tmp_path: Path,
                                                          export_server: str) -> None:
    project = tmp_path / "project"
    for name in COPIED:
        source = REPO / name
        if source.is_file():
            shutil.copy2(source, project / name)
        else:
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns(
                "__pycache__", "target", "logs", "dbt_packages"))
    for path, text in NEW_FILES.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text.lstrip())
    before, after = _files(REPO), _files(project)
    assert set(after) - set(before) == set(NEW_FILES)
    assert {p: b for p, b in after.items() if p not in NEW_FILES} == before  # nothing edited

    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAYPRO_", "ZENDESK_", "MATOMO_", "MOODLE_", "KOBO_",
                                "DAGSTER_HOME"))}
    env.update({"PYTHONPATH": str(project), "SAYPRO_DATA_DIR": str(data_dir),
                "SAYPRO_START_DATE": "2025-01-01", "DESKCSV_BASE_URL": export_server,
                "DESKCSV_API_KEY": API_KEY, "DESKCSV_PAGE_ROWS": str(PAGE_ROWS),
                "DAGSTER_HOME": str(tmp_path / "dagster")})
    (tmp_path / "dagster").mkdir()
    # a script file, not `-c`: PySpark, which GX imports when installed, takes a main module
    # without a file for a doctest run and exits
    (tmp_path / "run.py").write_text(RUN)
    proc = subprocess.run([sys.executable, str(tmp_path / "run.py")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["pull_asset"] == ["raw/deskcsv__tickets"]
    assert "raw/deskcsv__tickets" in out["staging_parents"]
    assert out["checks"] == ["deskcsv__tickets_valid",  # the quality asset's, and dbt's tests
                             "not_null_stg_deskcsv__tickets_ticket_id",
                             "unique_stg_deskcsv__tickets_ticket_id"]
    assert "deskcsv" in out["resources"]
    assert out["run_success"]
    assert out["metas"] == [1, 1, 2, 3] and out["formats"] == ["csv"]  # 2 + 2 + 1, then none
    assert out["cursor"] == {"updated_after": ROWS[-1][3]}
    assert out["again"] == 0
    assert out["keys"] == [r[0] for r in ROWS]
    assert out["validated"] == [["tickets", len(ROWS), 1]]
    assert out["quarantined"] == [["3", "status_accepted_values"]]
    assert out["dbt"] == 0  # its staging model and tests build; the bad row is left out
    assert out["staged"] == [int(r[0]) for r in ROWS if r[0] != "3"]
    assert out["dim_source"] == [  # listed with its records, the others as not configured
        ["deskcsv", "api", len(ROWS)], ["kobo", "skipped", 0], ["matomo", "skipped", 0],
        ["moodle", "skipped", 0], ["zendesk", "skipped", 0]]
    assert "raw/deskcsv__tickets" in out["dim_source_parents"]
    assert API_KEY.encode() not in b"".join(p.read_bytes() for p in data_dir.rglob("*")
                                            if p.is_file())
