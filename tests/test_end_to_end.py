"""End to end through the CLI: sample data → vendor emulators → real connectors → quality →
dbt → exports → reports, all as Dagster runs on a persistent instance."""

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.raw import table_name
from ingestion.sources import ENTITIES
from orchestration.asset_keys import raw_asset_key
from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[1]
SAYPRO = Path(sys.executable).with_name("saypro")
REQUIRED_MARTS = [
    "dim_person", "dim_segment", "fct_segment_membership", "fct_tickets",
    "fct_ticket_backlog_daily", "fct_web_visits", "agg_web_traffic_monthly",
    "agg_web_pages_monthly", "fct_enrolments", "fct_survey_responses", "kpi_values",
    "kpi_scorecard", "rca_pareto", "rca_recurring_issues", "support_monthly",
]


def _tables(warehouse: Path, schema: str) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [schema]).fetchall()]
        return {n: con.execute(f"SELECT count(*) FROM {schema}.{n}").fetchone()[0]
                for n in names}


@pytest.mark.slow
def test_demo_prints_where_outputs_are(demo_run: tuple[Path, str]) -> None:
    data_dir, stdout = demo_run
    for label in ("warehouse", "exports", "reports"):
        assert label in stdout
    assert str(data_dir / "warehouse.duckdb") in stdout


@pytest.mark.slow
def test_demo_builds_every_mart_with_rows(demo_run: tuple[Path, str]) -> None:
    data_dir, _ = demo_run
    marts = _tables(data_dir / "warehouse.duckdb", "marts")
    missing = [m for m in REQUIRED_MARTS if m not in marts]
    assert not missing, f"marts missing: {missing}"
    empty = [m for m in REQUIRED_MARTS if marts[m] == 0]
    assert not empty, f"empty marts: {empty}"
    exports = {p.stem for p in (data_dir / "exports" / "marts").glob("*.parquet")}
    assert set(REQUIRED_MARTS) <= exports


@pytest.mark.slow
def test_demo_renders_reports_for_every_month_and_quarter(demo_run: tuple[Path, str]) -> None:
    reports = demo_run[0] / "reports"
    for month in range(1, 13):
        assert (reports / f"support_monthly_2025-{month:02d}.html").stat().st_size > 0
        assert (reports / f"support_monthly_2025-{month:02d}.md").exists()
    for quarter in range(1, 5):
        assert (reports / f"quarterly_review_2025-Q{quarter}.html").stat().st_size > 0
        assert (reports / f"quarterly_review_2025-Q{quarter}.md").exists()


@pytest.mark.slow
def test_runs_and_materialisations_are_on_the_instance(
    demo_run: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, _ = demo_run
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster"))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs and all(r.is_success for r in runs)
        tickets = instance.get_latest_materialization_event(
            dg.AssetKey(["marts", "fct_tickets"]))
        assert tickets is not None
        report = instance.fetch_materializations(
            dg.AssetKey(["reports", "quarterly_review"]), limit=10).records
        assert {r.partition_key for r in report} == {"2025-01", "2025-04", "2025-07", "2025-10"}
        with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
            for source, entity in ENTITIES:
                pulled = instance.get_latest_materialization_event(raw_asset_key(source, entity))
                assert pulled is not None and pulled.asset_materialization is not None
                rows = con.execute(f"SELECT count(*) FROM {table_name(source, entity)}").fetchone()
                assert pulled.asset_materialization.metadata["dagster/row_count"].value == rows[0]


@pytest.mark.slow
def test_rerunning_a_month_is_idempotent(demo_run: tuple[Path, str], tmp_path: Path) -> None:
    """On a copy of the demo's data dir (warehouse, landing files, Dagster instance), so the
    other tests keep reading the demo as it was built."""
    data_dir = tmp_path / "demo"
    shutil.copytree(demo_run[0], data_dir, ignore=shutil.ignore_patterns("chromium"))
    warehouse = data_dir / "warehouse.duckdb"
    query = "SELECT * FROM marts.{} ORDER BY ALL"
    watched = ["fct_web_visits", "agg_web_traffic_monthly", "support_monthly", "kpi_values"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = {m: con.execute(query.format(m)).fetchall() for m in watched}
    env = clean_env(data_dir)
    env["SAYPRO_PII_SALT"] = "saypro-demo-salt-not-secret"
    proc = subprocess.run([str(SAYPRO), "run", "--from", "2025-03", "--to", "2025-03"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = {m: con.execute(query.format(m)).fetchall() for m in watched}
    for mart in watched:
        assert after[mart] == before[mart], f"{mart} changed on a re-run of 2025-03"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_ui_shows_every_stage_with_the_demo_materialisations(demo_run: tuple[Path, str]) -> None:
    """`make dev`'s webserver on the demo instance: the asset graph holds every stage, and a
    headless Chromium screenshot is kept in test-artefacts/screenshots/."""
    import json
    import time
    import urllib.request

    data_dir, _ = demo_run
    port = _free_port()
    env = clean_env(data_dir) | {"DAGSTER_HOME": str(data_dir / "dagster")}
    webserver = Path(sys.executable).with_name("dagster-webserver")
    server = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        query = json.dumps({"query": "{ assetNodes { assetKey { path } groupName description "
                                     "assetMaterializations(limit: 1) { timestamp } } }"})
        request = urllib.request.Request(f"{base}/graphql", data=query.encode(),
                                         headers={"Content-Type": "application/json"})
        nodes = json.loads(urllib.request.urlopen(request, timeout=60).read())["data"][
            "assetNodes"]
        groups = {n["groupName"] for n in nodes}
        assert {"ingestion", "quality", "staging", "marts", "reports"} <= groups
        assert all(n["description"] for n in nodes if n["groupName"] != "seeds")
        materialised = {"/".join(n["assetKey"]["path"]) for n in nodes
                        if n["assetMaterializations"]}
        assert {"marts/fct_tickets", "quality/quarantine", "raw/zendesk__tickets"} <= materialised

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        assert chromium, ("headless Chromium is required: `make test` installs it, "
                          "or `sudo apt-get install chromium`")
        artefacts = REPO / "test-artefacts" / "screenshots"
        artefacts.mkdir(parents=True, exist_ok=True)
        shot = artefacts / "dagster_asset_graph.png"
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={data_dir / 'chromium'}", "--virtual-time-budget=20000",
                 "--window-size=1600,1000"]
        subprocess.run([chromium, *flags, f"--screenshot={shot}", f"{base}/asset-groups"],
                       check=True, capture_output=True, timeout=180)
        assert shot.stat().st_size > 10_000
        dom = subprocess.run([chromium, *flags, "--dump-dom", f"{base}/assets"],
                             check=True, capture_output=True, text=True, timeout=180).stdout
        assert "fct_tickets" in dom or "marts" in dom
    finally:
        server.terminate()
        server.wait(timeout=30)
