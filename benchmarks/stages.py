"""One benchmark stage per process, so that each stage's peak memory is measured alone.

`python -m benchmarks.stages <stage> <workdir> [scale]` prints one JSON object of figures.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from sandbox.process import sandbox_process

if TYPE_CHECKING:
    import dagster as dg

    from ingestion.settings import Settings

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
SOURCES = ("zendesk", "matomo", "moodle", "kobo")


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "SAYPRO_DATA_DIR": str(workdir / "data"),
        "SAYPRO_WAREHOUSE": str(workdir / "data" / "warehouse.duckdb"),
        "SAYPRO_START_DATE": "2025-01-01",
        "SAYPRO_PII_SALT": env.get("SAYPRO_PII_SALT", "bench-salt"),
    })
    return env


def generate(workdir: Path, scale: float) -> dict:
    from sandbox.generator import generate as generate_sample

    start = time.perf_counter()
    manifest = generate_sample(workdir / "sample", scale=scale, seed=7)
    seconds = time.perf_counter() - start
    records = sum(v for v in manifest.get("counts", {}).values() if isinstance(v, int))
    return {"seconds": seconds, "records": records, "records_per_s": records / seconds}


def _own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_mb(pid: int) -> float:
    """Peak RSS of a running child (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmHWM")) / 1024


def _cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (all its threads) or of a running child."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pull(workdir: Path) -> dict:
    """Each source pulled from the emulators, in this process. On a 2-core machine the
    emulators take CPU the connectors would have on their own, so the connectors' own CPU
    seconds (HTTP, landing and the raw merge) are reported next to the wall time."""
    from ingestion.pull import pull_source
    from ingestion.settings import Settings
    from ingestion.sources import entities_of

    log = logging.getLogger("bench")
    figures: dict = {}
    with sandbox_process(workdir / "sample") as sandbox:
        settings = Settings.from_env({**_env(workdir), **sandbox.env})
        for source in SOURCES:
            cpu, emulator_cpu = _cpu_seconds(), _cpu_seconds(sandbox.pid)
            start = time.perf_counter()
            result = pull_source(source, settings, log)
            seconds = time.perf_counter() - start
            meta = result.metadata()
            records = sum(v for k, v in meta.items()
                          if k.endswith(".records") and isinstance(v, int))
            figures[source] = {
                "seconds": seconds, "records": records,
                "calls": sum(meta.get(f"{entity}.calls", meta.get(f"{entity}.pages", 0))
                             for entity in entities_of(source)),
                "records_per_s": records / seconds if seconds else None,
                "merge_s": result.merge_seconds,
                "connector_cpu_s": _cpu_seconds() - cpu,
                "emulator_cpu_s": _cpu_seconds(sandbox.pid) - emulator_cpu}
    total_records = sum(f["records"] for f in figures.values())
    total_seconds = sum(f["seconds"] for f in figures.values())
    return {"sources": figures, "records": total_records, "seconds": total_seconds,
            "records_per_s": total_records / total_seconds,
            "connector_cpu_s": sum(f["connector_cpu_s"] for f in figures.values()),
            "connector_peak_rss_mb": _own_peak_mb(),
            "sandbox": sandbox.figures()}


def dlt_pull(workdir: Path) -> dict:
    """The peer: the same Zendesk and Matomo pulls from the emulators with dlt's REST API
    source (`rest_api`) into DuckDB, as documented, in this process (its own emulators, its
    own DuckDB file). dlt lands no raw payloads, checksums or quarantine; it normalises the
    records into tables (nested lists become child tables) and merges on their ids, where the
    `pull` stage keeps each payload as received and merges the JSON records on their keys."""
    from datetime import UTC, datetime

    import dlt
    from dlt.sources.rest_api import rest_api_source

    from ingestion.settings import Settings
    from ingestion.sources import matomo, zendesk

    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    root = workdir / "dlt"
    shutil.rmtree(root, ignore_errors=True)
    figures: dict = {}
    with sandbox_process(workdir / "sample") as sandbox:
        settings = Settings.from_env({**_env(workdir), **sandbox.env})
        configs = {"zendesk": _dlt_zendesk(settings, zendesk._start_time(settings.start_date)),
                   "matomo": _dlt_matomo(settings, matomo._days(
                       settings.start_date, settings.timezone, None, datetime.now(UTC)))}
        for source, config in configs.items():
            pipeline = dlt.pipeline(
                pipeline_name=f"bench_{source}", pipelines_dir=str(root / "pipelines"),
                destination=dlt.destinations.duckdb(str(root / f"dlt_{source}.duckdb")),
                dataset_name=source)
            cpu, emulator_cpu = _cpu_seconds(), _cpu_seconds(sandbox.pid)
            start = time.perf_counter()
            pipeline.run(rest_api_source(config, name=source, max_table_nesting=0))
            seconds = time.perf_counter() - start
            counts = pipeline.last_trace.last_normalize_info.row_counts
            figures[source] = {
                "seconds": seconds,
                "records": sum(n for table, n in counts.items() if table in DLT_TABLES[source]),
                "rows": sum(n for table, n in counts.items() if not table.startswith("_dlt")),
                "tables": len([t for t in counts if not t.startswith("_dlt")]),
                "cpu_s": _cpu_seconds() - cpu,
                "emulator_cpu_s": _cpu_seconds(sandbox.pid) - emulator_cpu}
    return {"sources": figures, "dlt_version": dlt.__version__,
            "sandbox": sandbox.figures()}


DLT_TABLES = {"zendesk": ("users", "tickets", "ticket_events", "articles"),
              "matomo": ("visits",)}
"""dlt's tables of the records themselves (the others are the child tables of nested lists)."""


def _dlt_zendesk(settings: Settings, start_time: int) -> dict:
    """Zendesk as the connector pulls it: the cursor exports of users (from 0) and tickets
    (from the start date) page by `after_cursor` until an empty page, the time-based ticket
    events and the help-centre articles by their `next_page` links; merged on `id`."""
    from dlt.sources.helpers.rest_client.paginators import (
        JSONLinkPaginator,
        JSONResponseCursorPaginator,
    )

    credentials = settings.source("zendesk")
    assert credentials is not None

    def cursor_export(entity: str, start: int) -> dict:
        return {"name": entity, "endpoint": {
            "path": f"api/v2/incremental/{entity}/cursor.json", "params": {"start_time": start},
            "data_selector": entity, "paginator": JSONResponseCursorPaginator(
                cursor_path="after_cursor", cursor_param="cursor", stop_after_empty_page=True)}}

    return {
        "client": {"base_url": credentials.get("ZENDESK_BASE_URL") + "/", "auth": {
            "type": "http_basic", "username": f"{credentials.get('ZENDESK_EMAIL')}/token",
            "password": credentials.get("ZENDESK_API_TOKEN")}},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            cursor_export("users", 0),
            cursor_export("tickets", start_time),
            {"name": "ticket_events", "endpoint": {
                "path": "api/v2/incremental/ticket_events.json",
                "params": {"start_time": start_time, "include": "comment_events"},
                "data_selector": "ticket_events",
                "paginator": JSONLinkPaginator(next_url_path="next_page")}},
            {"name": "articles", "endpoint": {
                "path": "api/v2/help_center/articles.json",
                "params": {"page": 1, "per_page": 100}, "data_selector": "articles",
                "paginator": JSONLinkPaginator(next_url_path="next_page")}},
        ],
    }


def _dlt_matomo(settings: Settings, days: list) -> dict:
    """Matomo as the connector pulls it: Live.getLastVisitsDetails per local day, POSTed as a
    form (the token in the body), 1,000 visits a page until a short page; merged on
    `idVisit`. The days come from a parent resource, resolved into each request's form."""
    import dlt
    from dlt.sources.helpers.rest_client.paginators import BasePaginator

    from ingestion.sources.matomo import PAGE_SIZE

    credentials = settings.source("matomo")
    assert credentials is not None

    class FormOffsetPaginator(BasePaginator):
        """`filter_offset` in the form body, stopping at a page shorter than the limit."""

        def __init__(self, limit: int) -> None:
            super().__init__()
            self.limit, self.offset = limit, 0

        def init_request(self, request: Any) -> None:
            self.offset = 0
            request.data = {**request.data, "filter_offset": 0, "filter_limit": self.limit}

        def update_state(self, response: Any, data: list | None = None) -> None:
            self.offset += self.limit
            self._has_next_page = data is not None and len(data) == self.limit

        def update_request(self, request: Any) -> None:
            request.data = {**request.data, "filter_offset": self.offset}

    @dlt.resource(name="days", selected=False)
    def day_resource() -> Iterator[list[dict]]:
        yield [{"date": day.isoformat()} for day in days]  # one page: a child takes pages

    return {
        "client": {"base_url": credentials.get("MATOMO_BASE_URL") + "/"},
        "resources": [day_resource(), {
            "name": "visits", "primary_key": "idVisit", "write_disposition": "merge",
            "endpoint": {
                "path": "index.php", "method": "POST", "data_selector": "$",
                "data": {"module": "API", "method": "Live.getLastVisitsDetails",
                         "idSite": credentials.get("MATOMO_SITE_ID"), "period": "day",
                         "date": "{resources.days.date}", "format": "JSON",
                         "token_auth": credentials.get("MATOMO_TOKEN")},
                "paginator": FormOffsetPaginator(PAGE_SIZE)}}],
    }


def moodle_latency(workdir: Path) -> dict:
    """The Moodle pull at about 10,000 enrolments with 20 ms emulated latency per call.

    Completion status is one call per student, so this is where latency dominates; its own
    sample (scale 3.3 of the generator) keeps the figure independent of the bench scale.
    """
    from ingestion.pull import pull_source
    from ingestion.settings import Settings
    from ingestion.sources import moodle
    from sandbox.generator import generate as generate_sample

    root = workdir / "moodle-10k"
    if not (root / "sample" / "manifest.json").exists():
        generate_sample(root / "sample", scale=3.3, seed=7)
    shutil.rmtree(root / "data", ignore_errors=True)
    latency = 0.02
    with sandbox_process(root / "sample", latency) as sandbox:
        settings = Settings.from_env({**_env(root), **sandbox.env})
        start = time.perf_counter()
        result = pull_source("moodle", settings, logging.getLogger("bench"))
        seconds = time.perf_counter() - start
    meta = result.metadata()
    calls = sum(meta.get(f"{entity}.calls", meta.get(f"{entity}.pages", 0))
                for entity in ("categories", "courses", "enrolments", "completions", "grades"))
    return {"seconds": seconds, "latency_s": latency, "workers": moodle.WORKERS,
            "enrolments": meta.get("enrolments.records"),
            "completions": meta.get("completions.records"), "calls": calls,
            "calls_per_s": calls / seconds,
            "serial_floor_s": calls * latency, "ideal_pool_s": calls * latency / moodle.WORKERS}


def http_call_floor(workdir: Path) -> dict:
    """CPU per Moodle completion call, one thread, against the emulator: our client (the
    connector's `MoodleCaller`: retries, error checks, JSON parse) beside the stacks under it,
    each sending the same form: requests' `Session.post`, urllib3's `PoolManager` and the
    standard library's `http.client` on one kept-alive connection (no retries, no parse)."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    import requests
    import urllib3

    from ingestion.http import HttpClient
    from ingestion.sources.moodle import PATH, MoodleCaller

    calls = 3000
    function = "core_completion_get_course_completion_status"
    with sandbox_process(workdir / "sample") as sandbox:
        base, token = sandbox.env["MOODLE_BASE_URL"], sandbox.env["MOODLE_TOKEN"]
        url = base.rstrip("/") + PATH
        moodle = MoodleCaller(HttpClient("moodle", base, "MOODLE_TOKEN"), token)
        courses, _ = moodle.call("core_course_get_courses")
        course = next(c["id"] for c in courses if c.get("format") != "site")
        users, _ = moodle.call("core_enrol_get_enrolled_users", {"courseid": course})
        user_ids = [u["id"] for u in users]

        def form(user: int) -> dict[str, Any]:
            return {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json",
                    "courseid": course, "userid": user}

        session, pool = requests.Session(), urllib3.PoolManager()
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port)
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}

        def stdlib(user: int) -> None:
            connection.request("POST", PATH, body=urlencode(form(user)).encode(),
                               headers=form_type)
            connection.getresponse().read()

        clients: dict[str, Callable[[int], object]] = {
            "ours": lambda user: moodle.call(function, {"courseid": course, "userid": user}),
            "requests": lambda user: session.post(url, data=form(user)).content,
            "urllib3": lambda user: pool.urlopen("POST", url, body=urlencode(form(user)),
                                                 headers=form_type).data,
            "http_client": stdlib,
        }
        cpu_ms = {}
        for name, call in clients.items():
            start = _cpu_seconds()
            for i in range(calls):
                call(user_ids[i % len(user_ids)])
            cpu_ms[name] = (_cpu_seconds() - start) / calls * 1000
    return {"calls": calls, "cpu_ms_per_call": cpu_ms}


def parse_floor(workdir: Path) -> dict:
    """orjson over every landed page and JSON line: the cost of reading the JSON and nothing
    else, per source."""
    import orjson

    landing = workdir / "data" / "landing"
    sources: dict[str, dict] = {}
    start = time.perf_counter()
    for source in SOURCES:
        source_start, records, pages = time.perf_counter(), 0, 0
        for page in sorted((landing / source).rglob("*.json*")):
            if page.name.endswith(".meta.json"):
                continue
            pages += 1
            if page.suffix == ".jsonl":
                for line in page.read_bytes().splitlines():
                    orjson.loads(line)
                    records += 1
                continue
            doc = orjson.loads(page.read_bytes())
            if isinstance(doc, list):
                records += len(doc)
            else:
                records += max((len(v) for v in doc.values() if isinstance(v, list)), default=1)
        seconds = time.perf_counter() - source_start
        sources[source] = {"seconds": seconds, "records": records, "pages": pages}
    seconds = time.perf_counter() - start
    records = sum(f["records"] for f in sources.values())
    return {"seconds": seconds, "records": records,
            "pages": sum(f["pages"] for f in sources.values()),
            "records_per_s": records / seconds if seconds else None, "sources": sources}


def validate(workdir: Path) -> dict:
    from datetime import UTC, datetime

    from quality.validate import validate_all

    warehouse = workdir / "data" / "warehouse.duckdb"
    load_1m = os.getloadavg()[0]
    cpu = _cpu_seconds()
    start = time.perf_counter()
    results = validate_all(warehouse, run_id=f"bench-{int(start)}", as_of=datetime.now(UTC),
                           report_dir=workdir / "data" / "quality")
    seconds = time.perf_counter() - start
    rows = sum(r.rows_checked for r in results)
    # CPU seconds and the machine's load: wall time on 2 shared cores moves with other work
    return {"seconds": seconds, "rows": rows, "rows_per_s": rows / seconds if seconds else None,
            "cpu_s": _cpu_seconds() - cpu, "load_1m": [load_1m, os.getloadavg()[0]]}


def _cli_target(workdir: Path) -> Path:
    """dbt's target folder of the command-line stages: never the project's own, whose parse is
    where the pipeline's parses start (orchestration/dbt_invoke.py, `parse_environment`)."""
    return workdir / "data" / "dbt_target_cli"


def _dbt(workdir: Path, args: list[str], timings: bool = True,
         settings: dict[str, str] | None = None, as_the_pipeline_parses: bool = False) -> dict:
    """One dbt command; `settings` are passed as the Dagster assets pass them
    (SAYPRO_DBT_<NAME> environment variables, see orchestration/defs/dbt.py). A parse
    `as_the_pipeline_parses` is made in the pipeline's parse environment (no salt, the warehouse
    by its file name: orchestration/dbt_invoke.py, `parse_environment`)."""
    from orchestration.dbt_invoke import with_parse_environment

    dbt = Path(sys.executable).with_name("dbt")
    env = _env(workdir) | {f"SAYPRO_DBT_{k.upper()}": v for k, v in (settings or {}).items()}
    target = _cli_target(workdir)
    if "--target-path" not in args:
        args = [*args, "--target-path", str(target)]
    if as_the_pipeline_parses:
        env = with_parse_environment(env)
    start = time.perf_counter()
    proc = subprocess.run([str(dbt), *args, "--profiles-dir", "."], cwd=DBT_DIR,
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-4000:])
    if not timings:
        return {"seconds": seconds}
    results = json.loads((target / "run_results.json").read_text())
    timings = sorted(((r["unique_id"], r["execution_time"]) for r in results["results"]),
                     key=lambda x: -x[1])
    by_type: dict[str, float] = {}
    for unique_id, node_seconds in timings:
        kind = unique_id.split(".")[0]
        by_type[kind] = round(by_type.get(kind, 0.0) + node_seconds, 1)
    experiments = experiment_nodes(target / "manifest.json")
    return {"seconds": seconds, "nodes": len(timings),
            "node_seconds": sum(t for _, t in timings), "node_seconds_by_type": by_type,
            "experiment_node_s": sum(t for u, t in timings if u in experiments),
            "view_node_s": _median_view_seconds(timings, target / "manifest.json"),
            "slowest": [[u.split(".")[-1], round(t, 2)] for u, t in timings[:8]]}


def experiment_nodes(manifest_path: Path) -> set[str]:
    """The experiments' own dbt nodes (dbt tag `experiments`: the registry seed, the campaign
    staging, the intermediate models and the marts) and the data tests on them."""
    nodes = json.loads(manifest_path.read_text())["nodes"]
    own = {u for u, n in nodes.items() if "experiments" in n.get("tags", [])}
    tests = {u for u, n in nodes.items() if n["resource_type"] == "test"
             and own & set(n.get("depends_on", {}).get("nodes", []))}
    return own | tests


def _median_view_seconds(timings: list[tuple[str, float]], manifest: Path) -> float | None:
    """dbt's own cost per model: creating a view does no data work, so a view node's seconds
    are dbt's per-model overhead (statements, transaction, relation cache)."""
    nodes = json.loads(manifest.read_text())["nodes"]
    views = [t for u, t in timings
             if nodes.get(u, {}).get("config", {}).get("materialized") == "view"]
    return statistics.median(views) if views else None


PRODUCTION = ["--exclude-resource-type", "unit_test"]
"""As the Dagster assets run dbt: unit tests belong to CI (`make test`)."""


AS_OF = {"as_of": "2026-01-01"}


def dbt_full(workdir: Path) -> dict:
    return _dbt(workdir, ["build", *PRODUCTION, "--full-refresh"], settings=AS_OF)


def dbt_transform(workdir: Path) -> dict:
    """The transform alone: every model rebuilt, without the data and unit tests of a build."""
    return _dbt(workdir, ["run", "--full-refresh"], settings=AS_OF)


def spark_transform(workdir: Path) -> dict:
    """`dbt_transform`'s work on Apache Spark (SAYPRO_ENGINE=spark, docs/DEPLOYMENT.md): a local
    Spark session on this machine's cores, the seeds, then every model rebuilt from the raw
    Parquet lake the pull wrote. Timed apart: the session's start (a JVM), the seeds and the
    models (dbt's parse included, as in `dbt_transform`). Spark computes in its JVM, a child
    this process does not reap: its CPU seconds and peak RSS are read from /proc."""
    from orchestration.spark_build import SparkBuild, hand_over, spark_env, spark_session

    data = workdir / "data"
    shutil.rmtree(data / "spark", ignore_errors=True)
    hand_over(data / "warehouse.duckdb", str(data / "lake"))
    start = time.perf_counter()
    session = spark_session(data, os.environ["SAYPRO_PII_SALT"], master="local[2]")
    started = time.perf_counter()
    jvm = session.sparkContext._gateway.proc.pid
    build = SparkBuild(data, str(data / "lake"), AS_OF)
    with spark_env(build.lake_uri):
        build.dbt("seed", "--full-refresh")
    seeded = time.perf_counter()
    build.run(session, seeds=False)
    done = time.perf_counter()
    marts = session.sql("show tables in marts").count()
    jvm_cpu_s, jvm_peak_mb = _cpu_seconds(jvm), _peak_mb(jvm)
    session.stop()
    return {"seconds": done - start, "session_start_s": started - start,
            "seed_s": seeded - started, "models_s": done - seeded, "marts": marts,
            "jvm_cpu_s": jvm_cpu_s, "jvm_peak_rss_mb": jvm_peak_mb,
            "driver_cpu_s": _cpu_seconds()}


def dbt_month(workdir: Path) -> dict:
    return _dbt(workdir, ["build", *PRODUCTION, "--select", "config.materialized:incremental"],
                settings={**AS_OF, "period_start": "2025-06-01", "period_end": "2025-07-01"})


def dbt_parse(workdir: Path) -> dict:
    """dbt's fixed costs: start-up (`dbt --version`: Python and dbt's imports), a full parse,
    the parse a scheduled run would make from the command line (partial: a new cut-off, which
    models read only when they run), and a whole dbt step that builds a single view (start-up,
    partial parse, connection, hooks, artifacts) from the command line and in process, the
    first step of a process (it parses) and the next ones (they reuse the parse)."""
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("dbt")), "--version"], check=True,
                   capture_output=True)
    startup_s = time.perf_counter() - start
    full = _dbt(workdir, ["parse", "--no-partial-parse"], timings=False, settings=AS_OF)
    partial = _dbt(workdir, ["parse"], timings=False, settings={"as_of": "2026-02-01"})
    step = _dbt(workdir, ["run", "--select", "stg_moodle__categories"], timings=False,
                settings={"as_of": "2026-03-01"})
    return {"seconds": full["seconds"], "startup_s": startup_s,
            "partial_s": partial["seconds"], "one_view_step_s": step["seconds"],
            **_in_process_steps(workdir)}


def _in_process_steps(workdir: Path) -> dict:
    """The same one-view step as the pipeline runs it (orchestration/dbt_invoke.py): dbt in the
    Dagster process, the project parsed by the first step and kept for the next ones."""
    from orchestration.dbt_invoke import invoke_dbt

    os.environ.update(_env(workdir) | {"SAYPRO_DBT_AS_OF": "2026-04-01"})
    target = workdir / "data" / "dbt_target_bench"
    shutil.rmtree(target, ignore_errors=True)
    figures = {}
    for name in ("in_process_first_step_s", "in_process_step_s"):
        start = time.perf_counter()
        result = invoke_dbt(DBT_DIR, target, ["run", "--select", "stg_moodle__categories"])
        figures[name] = time.perf_counter() - start
        if not result.success:
            raise RuntimeError(f"in-process dbt step failed: {result.exception}")
    return figures


def floor(workdir: Path) -> dict:
    warehouse = workdir / "data" / "warehouse.duckdb"
    sql = (Path(__file__).with_name("floor.sql")).read_text()
    start = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET TimeZone = 'Africa/Johannesburg'")
        con.execute(sql)
        months = con.execute("SELECT count(*) FROM floor_support_monthly").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "months": months}


def reports(workdir: Path) -> dict:
    from reports.monthly import render_support_monthly
    from reports.quarterly import render_quarterly_review

    warehouse = workdir / "data" / "warehouse.duckdb"
    out = workdir / "data" / "reports"
    start = time.perf_counter()
    render_support_monthly(warehouse, "2025-06", out)
    render_quarterly_review(warehouse, "2025-Q2", out)
    return {"seconds": time.perf_counter() - start}


def dagster_import(workdir: Path) -> dict:
    start = time.perf_counter()
    from orchestration.definitions import defs

    count = len(list(defs.resolve_all_asset_keys()))
    return {"seconds": time.perf_counter() - start, "assets": count}


MONTHLY_RUN_MONTH = "2025-12"
"""The last month of the generated sample: the month a scheduled run would build next."""


def monthly_run(workdir: Path) -> dict:
    """The scheduled `monthly_refresh` of one month, as Dagster runs it (in process, on a
    Dagster instance of its own, the emulators in their own process): incremental pull and
    validation of what is new, the month's incremental models, every whole-history mart, the
    exports and the month's report. Step times come from the run's event log; what the run
    spends outside its steps is Dagster's own overhead. Not in the run's figures: the parse
    of the month before that it starts from (`previous_parse_s`)."""
    home = workdir / "dagster-bench"
    shutil.rmtree(home, ignore_errors=True)
    os.environ["DAGSTER_HOME"] = str(home)
    # A scheduled run starts where the month before left dbt's target folder: its parse file
    # (a first run in a new data dir starts from the project's own parse, `make manifest`).
    target = workdir / "data" / "dbt_target"
    shutil.rmtree(target, ignore_errors=True)
    previous = _dbt(workdir, ["parse", "--target-path", str(target)], timings=False,
                    settings={"as_of": "2025-12-01"}, as_the_pipeline_parses=True)
    with sandbox_process(workdir / "sample") as sandbox:
        os.environ.update(sandbox.env)
        start = time.perf_counter()
        from orchestration.runner import PipelineRunner, prepare_dagster_home

        prepare_dagster_home(workdir / "data")  # the repo's dagster.yaml into DAGSTER_HOME
        runner = PipelineRunner()
        imported = time.perf_counter()
        run = runner.refresh_month(MONTHLY_RUN_MONTH)
        seconds = time.perf_counter() - start
    steps = step_figures(runner.instance, run.run_id)
    experiments = experiment_figures(runner.instance, run.run_id,
                                     workdir / "data" / "dbt_target" / "manifest.json")
    return {"seconds": seconds, "import_s": imported - start, "month": MONTHLY_RUN_MONTH,
            "previous_parse_s": previous["seconds"],
            **steps, **experiments,
            "experiment_share": experiments["experiment_s"] / steps["run_s"]}


def step_figures(instance: dg.DagsterInstance, run_id: str) -> dict:
    """Each step's seconds and the run's seconds outside any step (in-process executor: the
    steps run one after another), from Dagster's own run and step statistics."""
    run = instance.get_run_stats(run_id)
    if run.start_time is None or run.end_time is None:
        raise RuntimeError(f"run {run_id} has no start or end time")
    steps = {s.step_key: s.end_time - s.start_time for s in instance.get_run_step_stats(run_id)
             if s.start_time is not None and s.end_time is not None}
    run_s = run.end_time - run.start_time
    outside = run_s - sum(steps.values())
    return {"run_s": run_s, "steps": len(steps), "outside_steps_s": outside,
            "per_step_overhead_s": outside / len(steps) if steps else None,
            "step_s": {k: round(v, 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])}}


def experiment_figures(instance: dg.DagsterInstance, run_id: str, manifest: Path) -> dict:
    """The experiments' share of a run: the seconds of their dbt nodes (models, seed and data
    tests, as dbt timed them; dagster-dbt puts each node's `Execution Duration` and `unique_id`
    on its materialization or check evaluation) and of the Dagster steps of their own (the
    sample-ratio check). dbt runs two threads, so a node's seconds may overlap another's: the
    share of the run's wall time is at most this."""
    import dagster as dg

    experiments = experiment_nodes(manifest)
    node_s: dict[str, float] = {}
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION,
             dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data
        metadata = (data.materialization.metadata
                    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                    else data.metadata)
        unique_id, duration = metadata.get("unique_id"), metadata.get("Execution Duration")
        if unique_id is not None and duration is not None:
            node_s[unique_id.value] = node_s.get(unique_id.value, 0.0) + duration.value
    own_steps = {s.step_key: s.end_time - s.start_time
                 for s in instance.get_run_step_stats(run_id)
                 if "experiment" in s.step_key and s.start_time and s.end_time}
    mine = {u: t for u, t in node_s.items() if u in experiments}
    tests_s = sum(t for u, t in mine.items() if u.startswith("test."))
    return {"dbt_node_s": sum(node_s.values()),
            "experiment_node_s": sum(mine.values()),
            "experiment_step_s": sum(own_steps.values()),
            "experiment_s": sum(mine.values()) + sum(own_steps.values()),
            "experiment_nodes": {
                **{u.split(".")[-1]: round(t, 2) for u, t in
                   sorted(mine.items(), key=lambda kv: -kv[1]) if not u.startswith("test.")},
                f"{sum(u.startswith('test.') for u in mine)} data tests": round(tests_s, 2)}}


def dashboard(workdir: Path) -> dict:
    """Each dashboard page's render seconds (benchmarks/dashboard.py) on the exports of the
    warehouse the earlier stages built (exported first, untimed)."""
    from benchmarks.dashboard import measure
    from reports.exports import export_marts

    data = workdir / "data"
    export_marts(data / "warehouse.duckdb", data / "exports" / "marts")
    return measure(data)


def raw_lake(workdir: Path) -> dict:
    """The raw build from the landed files with and without writing the Parquet lake, and
    every staging model read from the raw tables and from the lake (best of two each).

    In a folder of its own (`raw-lake/`), so the warehouse of the other stages is untouched.
    Staging is dbt's compiled SQL of the staging models; on the lake, each raw table is
    replaced by a view over its Parquet files (side tables stay in DuckDB)."""
    import re

    from ingestion.lake import Lake, sync_warehouse
    from ingestion.raw import ENTITIES, connect, rebuild_raw
    from quality.history import ensure_schema

    data, own = workdir / "data", workdir / "raw-lake"
    shutil.rmtree(own, ignore_errors=True)
    own.mkdir()
    warehouse, lake = own / "warehouse.duckdb", Lake(str(own / "lake"), "Africa/Johannesburg")

    def timed(fn: Callable[[], list]) -> tuple[float, list]:
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    # Twice from an empty lake, then once more onto the lake just written (nothing changes):
    # the machine is shared, so the best of the rounds is the figure.
    raw_s, write_s = [], []
    for _ in range(2):
        shutil.rmtree(own / "lake", ignore_errors=True)
        raw_s.append(timed(lambda: rebuild_raw(warehouse, data))[0])
        seconds, first = timed(lambda: sync_warehouse(warehouse, lake, ENTITIES))
        write_s.append(seconds)
    raw_s.append(timed(lambda: rebuild_raw(warehouse, data))[0])
    unchanged_s, again = timed(lambda: sync_warehouse(warehouse, lake, ENTITIES))
    if any(s.rewritten or s.removed for s in again):
        raise RuntimeError("a rebuild from the same landing files changed the lake")
    lake_bytes = sum(p.stat().st_size for p in (own / "lake").rglob("*.parquet"))
    warehouse_bytes = warehouse.stat().st_size

    # compiled against the stages' warehouse: the same catalog name, `warehouse`
    _dbt(workdir, ["compile", "--select", "staging"], timings=False, settings=AS_OF)
    models = sorted((_cli_target(workdir) / "compiled").rglob("staging/**/stg_*.sql"))
    raw_tables = "|".join(f"{source}__{entity}" for source, entity in ENTITIES)
    on_lake = re.compile(rf'"raw"\."({raw_tables})"')
    reads: dict[str, list[float]] = {"table": [], "lake": []}
    rows: dict[str, int] = {}
    sys.path.insert(0, str(DBT_DIR / "plugins"))
    from saypro_pii import Plugin  # the dbt connection's saypro_pii_hash()

    with connect(warehouse) as con:
        Plugin.configure_connection(None, con)  # type: ignore[arg-type]
        ensure_schema(con)  # staging leaves out quarantined rows (none here)
        con.execute("CREATE SCHEMA IF NOT EXISTS lake_raw")
        for source, entity in ENTITIES:
            files = lake.path("raw", f"{source}__{entity}", "*", "*.parquet")
            con.execute(f"""CREATE OR REPLACE VIEW lake_raw.{source}__{entity} AS
                SELECT * EXCLUDE (load_month) REPLACE (record::JSON AS record)
                FROM read_parquet('{files}', hive_partitioning = true)""")
        for _ in range(2):
            for way in ("table", "lake"):
                seconds = 0.0
                for model in models:
                    sql = model.read_text()
                    if way == "lake":
                        sql = on_lake.sub(r'"lake_raw"."\1"', sql)
                    start = time.perf_counter()
                    con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {sql}")
                    seconds += time.perf_counter() - start
                    count = con.execute("SELECT count(*) FROM staged").fetchone()[0]
                    if rows.setdefault(model.stem, count) != count:
                        raise RuntimeError(f"{model.stem}: {count} rows from the {way}, "
                                           f"{rows[model.stem]} from the other")
                reads[way].append(seconds)
    return {"raw_s": min(raw_s), "lake_write_s": min(write_s), "raw_rounds_s": raw_s,
            "lake_write_rounds_s": write_s, "lake_unchanged_s": unchanged_s,
            "months_written": sum(len(s.rewritten) for s in first),
            "lake_mb": lake_bytes / 2**20, "warehouse_mb": warehouse_bytes / 2**20,
            "staging_models": len(models), "staging_rows": sum(rows.values()),
            "staging_from_tables_s": min(reads["table"]),
            "staging_from_lake_s": min(reads["lake"])}


STAGES = {f.__name__: f for f in (generate, pull, parse_floor, validate, dbt_full,
                                  dbt_transform, spark_transform, dbt_month,
                                  dbt_parse, floor, reports, dagster_import,
                                  monthly_run, moodle_latency, http_call_floor,
                                  dashboard, raw_lake, dlt_pull)}


def main() -> None:
    stage, workdir = sys.argv[1], Path(sys.argv[2])
    os.environ.update(_env(workdir))
    args = [float(sys.argv[3])] if stage == "generate" else []
    print(json.dumps(STAGES[stage](workdir, *args)))


if __name__ == "__main__":
    main()
