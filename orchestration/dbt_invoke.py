"""dbt in this process with the parsed project kept between invocations (no Dagster here).

A dbt command starts a Python process, imports dbt and re-reads the project: about 7 s before
the first model (benchmarks/RESULTS.md, `dbt_parse`). Here dbt's programmatic runner is given
the manifest parsed once per process (again only when a dbt file or a profile setting
changes), so an invocation costs what its nodes cost. The pipeline's dbt steps
(`orchestration/dbt_runner.py`) and `saypro dbt` run dbt through it. See
docs/ARCHITECTURE.md, "dbt in process".
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.settings import WAREHOUSE_FILE, Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

# Settings that the profile (profiles.yml) and its plugins read: a change means another
# connection, and dbt parses again, as it would from the command line. dbt parses with the
# warehouse's file name, not its folder: see `parse_environment`.
PROFILE_VARIABLES = ("SAYPRO_WAREHOUSE", "SAYPRO_TIMEZONE", "SAYPRO_DUCKDB_MEMORY_LIMIT",
                     "SAYPRO_DUCKDB_THREADS", "SAYPRO_ENGINE", "SAYPRO_LAKE_URI")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PROJECT_FOLDERS = ("models", "macros", "seeds", "tests", "plugins", "snapshots")
LOGGED_LEVELS = {"info", "warn", "error"}
# The events dagster-dbt turns into Dagster outputs and check results.
RESULT_EVENTS = {"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"}


class DbtStepError(Exception):
    """A dbt step that did not succeed; the message holds dbt's own error lines."""


def print_log_line(event: dict[str, Any]) -> None:
    """Print a dbt event's message to stdout when it is a log line of info level or above
    (dbt itself runs `--quiet` in process), as a dbt command would."""
    if event["info"].get("level") in LOGGED_LEVELS and event["info"].get("msg"):
        sys.stdout.write(f"{event['info']['msg']}\n")


def parse_environment(environ: Mapping[str, str]) -> dict[str, str | None]:
    """What every dbt parse of the project changes in the environment (None: left out).

    - The warehouse is given by its file name alone. dbt starts from an earlier parse (partial
      parsing) only if the profile's connection settings are the same, the warehouse's path
      among them, so the first run in each new data dir parsed the whole project (about 7 CPU
      s). Parsing never opens the warehouse, and what it writes depends on the file's name only
      (dbt-duckdb names the database after it): parsed this way, the project's own parse
      (`make manifest`) is where the first parse of any data dir starts.
    - No PII salt: parsing never hashes, and dbt stores the values of the variables it reads
      during parsing in its partial-parse file."""
    warehouse = environ.get("SAYPRO_WAREHOUSE") or WAREHOUSE_FILE
    return {"SAYPRO_WAREHOUSE": Path(warehouse).name, "SAYPRO_PII_SALT": None}


def with_parse_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with `parse_environment` applied: for a dbt parse in another process."""
    changes = parse_environment(environ)
    return ({k: v for k, v in environ.items() if k not in changes}
            | {k: v for k, v in changes.items() if v is not None})


def dbt_environment(settings: Settings, run_settings: Mapping[str, str]) -> dict[str, str]:
    """Environment dbt reads: warehouse, time zone, DuckDB's limits, PII salt (required; demo
    sets its own), and the run's settings as SAYPRO_DBT_<NAME> (macro run_setting), read when
    models run, so the project parsed once serves every step and run (`--vars` would make dbt
    parse it again)."""
    return {
        "SAYPRO_WAREHOUSE": str(settings.warehouse),
        "SAYPRO_TIMEZONE": settings.timezone,
        "SAYPRO_DUCKDB_MEMORY_LIMIT": settings.duckdb.memory_limit,
        "SAYPRO_DUCKDB_THREADS": str(settings.duckdb.threads or ""),
        "SAYPRO_PII_SALT": settings.require_pii_salt(),
        **{f"SAYPRO_DBT_{name.upper()}": value for name, value in run_settings.items()},
    }


@contextmanager
def _parsing_environment() -> Iterator[None]:
    """`parse_environment` applied to this process's environment, restored afterwards."""
    changes = parse_environment(os.environ)
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            _set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set_variable(name, value)


def _set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@dataclass(frozen=True)
class _ParseKey:
    project_dir: str
    target_path: str
    parse_settings: tuple[str | None, ...]
    project_files: tuple[int, float]


_parsed: dict[_ParseKey, Any] = {}
# dbt keeps its flags, adapters and event handlers in module globals: one invocation at a time.
_dbt_lock = threading.Lock()


def _project_fingerprint(project_dir: Path) -> tuple[int, float]:
    """Count and newest change time of the project's files: any edit, addition or removal
    changes it."""
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in PROJECT_FOLDERS:
        if (project_dir / folder).is_dir():
            files.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return len(files), max(p.stat().st_mtime for p in files if p.exists())


def _common_args(project_dir: Path, target_path: Path) -> list[str]:
    return ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), "--log-path", str(target_path),
            "--quiet", "--no-use-colors", "--no-send-anonymous-usage-stats"]


def _run_args() -> list[str]:
    """What every invocation but the parse leaves out, each a fixed cost of every dbt step:
    - writing `manifest.json` again (the manifest kept here is the one the parse wrote there;
      `run_results.json` is written by `invoke_dbt` itself, a few kB);
    - the debug lines of `dbt.log` (the SQL of every query, about a tenth of a build's time):
      info and above are kept; `DBT_LOG_LEVEL_FILE=debug` brings them back."""
    file_level = [] if os.environ.get("DBT_LOG_LEVEL_FILE") else ["--log-level-file", "info"]
    return ["--no-write-json", *file_level]


def _manifest(project_dir: Path, target_path: Path) -> Any:
    """The parsed project for this target folder, parsed at most once per process and change. A
    target folder without a parse of its own (a new data dir) starts from the project's: dbt
    then parses only what differs from it (its partial parsing checks every file, variable and
    setting itself)."""
    from dbt.cli.main import dbtRunner

    with _parsing_environment():
        key = _ParseKey(str(project_dir), str(target_path),
                        tuple(os.environ.get(name) for name in PROFILE_VARIABLES),
                        _project_fingerprint(project_dir))
        if key not in _parsed:
            own, project_parse = (target_path / PARTIAL_PARSE_FILE,
                                  project_dir / "target" / PARTIAL_PARSE_FILE)
            if not own.exists() and project_parse.exists():
                shutil.copyfile(project_parse, own)
            result = dbtRunner().invoke(["parse", *_common_args(project_dir, target_path)])
            if not result.success:
                raise DbtStepError(f"dbt could not parse {project_dir}: {result.exception}")
            _parsed.clear()  # one warehouse per process at a time; keep memory flat in long runs
            _parsed[key] = result.result
    return _parsed[key]


def _forget_compilation(manifest: Any) -> None:
    """Return every node of the kept manifest to its parsed, uncompiled state. dbt compiles
    into the manifest's nodes and marks a node whose ephemeral models it has inlined
    (`extra_ctes_injected`); a later invocation renders the node's SQL afresh but, seeing the
    mark, does not inline them again, so a model reading an ephemeral one (kpi_values reads
    kpi_observations) failed on its second build in a process: the second month of a
    `saypro run --from --to`. A dbt command loads its manifest from disk, never compiled."""
    from dbt.contracts.graph.nodes import CompiledNode

    for node in manifest.nodes.values():
        if isinstance(node, CompiledNode):  # seeds are not compiled
            node.compiled, node.compiled_code, node._pre_injected_sql = False, None, None
            node.extra_ctes_injected, node.extra_ctes = False, []


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the process once dbt is done, as a
    dbt process would on exit: the pipeline's other steps open the warehouse themselves, and
    DuckDB refuses a second in-process connection with other settings (read-only, memory cap)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def invoke_dbt(project_dir: Path, target_path: Path, args: Sequence[str],
               on_event: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """Run `dbt <args>` in this process on the project parsed once (see `_manifest`); dbt's
    result and log events (results, and info level and above) go to `on_event` as the dicts of
    dbt's JSON log. Returns dbt's `dbtRunnerResult`."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    target_path.mkdir(parents=True, exist_ok=True)
    # The profile's dbt-duckdb plugins are found through `module_paths`, relative to where a
    # dbt command starts (the project folder); this process may have started anywhere.
    plugins = str(project_dir / "plugins")
    if plugins not in sys.path:
        sys.path.append(plugins)

    def collect(message: Any) -> None:
        if on_event and (message.info.name in RESULT_EVENTS
                         or message.info.level in LOGGED_LEVELS):
            on_event(msg_to_dict(message))

    with _dbt_lock:
        manifest = _manifest(project_dir, target_path)
        _forget_compilation(manifest)
        try:
            result = dbtRunner(manifest=manifest, callbacks=[collect]).invoke(
                [*args, *_common_args(project_dir, target_path), *_run_args()])
        finally:
            _release_warehouse()
    if hasattr(result.result, "write"):  # a run's results, as dbt writes them
        result.result.write(str(target_path / "run_results.json"))
    return result


def run_command(project_dir: Path, settings: Settings, args: Sequence[str]) -> bool:
    """`saypro dbt <args>`: a dbt command on the deployment's warehouse, run as the pipeline
    runs its dbt steps (its settings, its target folder, its parse: a dbt started by hand in
    the project folder would parse the project again and replace the parse every data dir
    starts from). dbt's log lines of info level and above go to stdout. The run's own settings
    stay those of the environment (SAYPRO_DBT_AS_OF and the like; none: the cut-off is now)."""
    if settings.engine == "spark":
        raise RuntimeError("runs dbt on DuckDB only; with SAYPRO_ENGINE=spark, models are built "
                           "by the pipeline's steps (`saypro run`), which start the Spark session")
    os.environ.update(dbt_environment(settings, {}))

    def show(event: dict[str, Any]) -> None:
        print_log_line(event)
        sys.stdout.flush()

    result = invoke_dbt(project_dir, settings.dbt_target_dir, args, show)
    if result.exception is not None and not result.success:
        print(f"dbt {' '.join(args)}: {result.exception}", file=sys.stderr)
    return bool(result.success)
