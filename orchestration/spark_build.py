"""The dbt build on Apache Spark (SAYPRO_ENGINE=spark; docs/DEPLOYMENT.md).

The same dbt project as on DuckDB, run in-process by dbt's Python API with the `spark` target
(`method: session`): this process starts the Spark session (master SAYPRO_SPARK_MASTER,
`local[2]` by default), registers `saypro_pii_hash()` on it and runs dbt, whose raw sources
are external tables over the Parquet lake (macro `spark__prepare_warehouse`). The tables that
other stages keep in the DuckDB warehouse and dbt reads (quality.quarantine) are handed over
to the lake first; the lake sync already writes raw._source_status.

dbt-spark runs no Python models outside Databricks: the build runs dbt up to their parents,
computes them here with the same functions as the DuckDB models (`transforms` package), writes
their tables and builds the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.connection import connect
from ingestion.lake import Lake, check_lake
from ingestion.raw import sql_literal
from ingestion.settings import Settings

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
DEFAULT_MASTER = "local[2]"
MASTER_VARIABLE = "SAYPRO_SPARK_MASTER"
HANDED_OVER = {  # DuckDB table read by dbt -> its folder in the lake
    "quality.quarantine": "quality/quarantine",
}
SERVING_FOLDER = "serving"
"""Lake folder of the Spark tables published into the DuckDB warehouse (`publish`)."""


class SparkSetupError(RuntimeError):
    """The Spark build cannot start; the message names the setting or install that fixes it."""


def check_setup() -> None:
    """Fail fast, with one line naming the fix, when PySpark, dbt-spark or Java is missing."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkSetupError(
            f"SAYPRO_ENGINE=spark needs PySpark and dbt-spark ({exc.name} is missing): "
            "pip install 'saypro-insights[spark]'") from exc
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and not shutil.which("java"):
        raise SparkSetupError("SAYPRO_ENGINE=spark needs Java 17: install it (Debian: apt-get "
                              "install openjdk-17-jre-headless) or set JAVA_HOME")


def check_master(master: str, timeout: float = 5.0) -> None:
    """Fail fast, with one line naming the fix, when the Spark master of `master` cannot be
    reached: `local[...]` runs in this process; `spark://host:port[,host:port]` (standalone,
    with stand-by masters) and `k8s://https://host:port` must accept a connection."""
    if master == "local" or re.fullmatch(r"local\[(\d+|\*)(,\d+)?\]", master):
        return
    fix = (f"start it, or set {MASTER_VARIABLE} to a reachable master (spark://host:7077), or "
           f"to {DEFAULT_MASTER} to run Spark in this process")
    found = re.fullmatch(r"spark://(.+)|k8s://(?:https?://)?([^/]+)", master)
    if found is None:
        raise SparkSetupError(f"{MASTER_VARIABLE}={master} is not a Spark master this pipeline "
                              "starts: use local[N] or spark://host:port (k8s://host:port)")
    problems = []
    for address in (found[1] or found[2]).split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
            return
        except (OSError, ValueError) as exc:
            problems.append(f"{address}: {exc}")
    raise SparkSetupError(f"{MASTER_VARIABLE}={master} is unreachable "
                          f"({'; '.join(problems)[:200]}): {fix}")


def check_start(settings: Settings) -> None:
    """What a run with SAYPRO_ENGINE=spark needs before anything is pulled or built, each
    failure one line naming the fix: PySpark, dbt-spark and Java, a reachable master and a
    writable lake. (Settings already checked PySpark and the Java version.)"""
    check_setup()
    check_master(settings.env.get(MASTER_VARIABLE) or os.environ.get(MASTER_VARIABLE)
                 or DEFAULT_MASTER)
    check_lake(Lake.of(settings))


def hand_over(warehouse: Path, lake_uri: str) -> None:
    """Copy the DuckDB tables dbt reads but other stages own into the lake (HANDED_OVER)."""
    lake = lake_uri.rstrip("/")
    if not warehouse.exists():  # nothing pulled yet: nothing quarantined
        return
    with connect(warehouse, read_only=True) as con:
        for table, folder in HANDED_OVER.items():
            schema, name = table.split(".")
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?", [schema, name]).fetchone()[0]
            if not exists:
                continue
            if "://" not in lake:
                Path(lake, folder).mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {table}) to '{lake}/{folder}/part-0.parquet' "
                        "(format parquet)")


def pii_hasher(salt: str) -> Callable[[str | None], str | None]:
    """saypro_pii_hash() as dbt_project/plugins/saypro_pii.py computes it: hex SHA-256 of
    salt || lower(trim(value)), NULL for an empty value. A closure, so that Spark ships it to
    its Python workers by value (they need not import this package)."""
    prefix = salt.encode()

    def pii_hash(value: str | None) -> str | None:
        text = (value or "").strip(" ").lower()
        return hashlib.sha256(prefix + text.encode()).hexdigest() if text else None

    return pii_hash


def spark_session(data_dir: Path, salt: str, master: str | None = None) -> Any:
    """The Spark session of the build: catalog and table files under <data dir>/spark, times
    in UTC (the models convert to SAYPRO_TIMEZONE themselves), saypro_pii_hash() hashing with
    `salt` (bound into the function sent to the workers: it appears in no SQL text)."""
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StringType

    master = master or os.environ.get(MASTER_VARIABLE) or DEFAULT_MASTER
    home = (data_dir / "spark").resolve()
    home.mkdir(parents=True, exist_ok=True)
    builder = (SparkSession.builder.master(master).appName("saypro-dbt")
               .config("spark.sql.warehouse.dir", str(home / "warehouse"))
               .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
               .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                       f"jdbc:derby:;databaseName={home / 'metastore'};create=true")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.memory", os.environ.get("SAYPRO_SPARK_DRIVER_MEMORY", "4g"))
               .config("spark.sql.legacy.sizeOfNull", "false")
               # instants as Parquet's UTC-adjusted microseconds (not INT96): DuckDB reads the
               # published marts' instants as timestamptz
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
               .config("spark.pyspark.python", sys.executable)
               .enableHiveSupport())
    try:
        session = builder.getOrCreate()
    except Exception as exc:
        raise SparkSetupError(
            f"Spark did not start with master {master!r} ({str(exc).splitlines()[0][:200]}): "
            f"check {MASTER_VARIABLE} (local[2], or spark://host:7077 of a reachable "
            "cluster) and Java 17") from exc
    session.sparkContext.setLogLevel("ERROR")
    session.udf.register("saypro_pii_hash", pii_hasher(salt), StringType())
    return session


_shared: dict[tuple[str, str], Any] = {}


def shared_session(data_dir: Path, salt: str) -> Any:
    """The process's one Spark session for `data_dir` (starting one costs seconds and a JVM):
    every dbt step of every run in this process builds in it."""
    key = (str(data_dir.resolve()), salt)
    if key not in _shared:
        if _shared:
            raise SparkSetupError(
                "One Spark session per process: this one already builds "
                f"{next(iter(_shared))[0]}; run the pipeline for {data_dir} in a process of its "
                "own")
        _shared[key] = spark_session(data_dir, salt)
    return _shared[key]


def publish(session: Any, lake: Lake, warehouse: Path,
            tables: Mapping[str, Mapping[str, str | None]]) -> None:
    """Serving copies of Spark tables in the DuckDB warehouse, so that what reads the marts
    (exports, reports, dashboard, checks) reads the same tables on either engine. `tables`:
    `schema.name` -> {column: its DuckDB type (the model contract's), or None to keep the
    type read}; empty for every column as read. Spark writes each table to
    `<lake>/serving/<schema>/<name>/` (the lake is the storage both engines reach), DuckDB
    replaces its table with those files, its columns in the contract's order and types."""
    for table in tables:
        session.table(table).write.mode("overwrite").parquet(
            lake.path(SERVING_FOLDER, *table.split(".")))
    with connect(warehouse) as con:
        lake.prepare(con)
        for table, columns in tables.items():
            files = sql_literal(lake.path(SERVING_FOLDER, *table.split("."), "*.parquet"))
            select = ", ".join(f'cast("{c}" as {t}) as "{c}"' if t else f'"{c}"'
                               for c, t in columns.items()) or "*"
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            con.execute(f"create or replace table {table} as select {select} "
                        f"from read_parquet({files})")


@contextmanager
def spark_env(lake_uri: str, overrides: Mapping[str, str] | None = None) -> Iterator[None]:
    """The process environment of dbt on Spark (the profile's `spark` target reading the lake
    at `lake_uri`, and `overrides`), restored afterwards."""
    saved = dict(os.environ)
    os.environ.update({"SAYPRO_ENGINE": "spark", "SAYPRO_LAKE_URI": lake_uri,
                       **(overrides or {})})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _spark_type(dtype: Any) -> str:
    kind = pd.api.types
    if kind.is_bool_dtype(dtype):
        return "boolean"
    if kind.is_integer_dtype(dtype):
        return "bigint"
    if kind.is_float_dtype(dtype):
        return "double"
    return "string"


def write_table(session: Any, table: str, frame: pd.DataFrame) -> None:
    """Replace Spark table `schema.name` with the rows of `frame` (types as DuckDB gives the
    same frame: integers bigint, floats double)."""
    schema = ", ".join(f"`{c}` {_spark_type(t)}" for c, t in frame.dtypes.items())
    rows = [tuple(None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in row)
            for row in frame.itertuples(index=False)]
    (session.createDataFrame(rows, schema).write.mode("overwrite").format("parquet")
     .saveAsTable(table))


def _frame(session: Any, sql: str) -> pd.DataFrame:
    return session.sql(sql).toPandas()


def _sentiment(session: Any) -> pd.DataFrame:
    from transforms.sentiment import score_comments

    return score_comments(_frame(session, "select response_id, comment_text "
                                          "from staging.stg_kobo__feedback_responses "
                                          "where comment_text is not null"))


def _experiment_statistics(session: Any) -> pd.DataFrame:
    from transforms.experiment_stats import comparisons

    return comparisons(
        _frame(session, "select * from intermediate.int_experiments_validated"),
        _frame(session, "select experiment_id, variant, is_multi_variant, count(*) as units "
                        "from intermediate.int_experiment_exposures group by all"),
        _frame(session, "select experiment_id, variant, metric_id, numerator, denominator, "
                        "count(*) as units from intermediate.int_experiment_outcomes_measured "
                        "group by all"))


PYTHON_MODELS: dict[str, tuple[str, Callable[[Any], pd.DataFrame]]] = {
    # dbt Python model -> (its table, the function computing its rows on Spark); in an order
    # where no model reads a later one
    "int_survey_comments_scored": ("intermediate.int_survey_comments_scored", _sentiment),
    "int_experiment_comparisons_tested": ("intermediate.int_experiment_comparisons_tested",
                                          _experiment_statistics),
}


def target_path(data_dir: Path) -> Path:
    """dbt's target folder of the Spark builds (the DuckDB one is `<data dir>/dbt_target`)."""
    return data_dir / "spark" / "dbt_target"


@dataclass
class SparkBuild:
    """One dbt build on Spark; `run` raises RuntimeError with dbt's failures."""

    data_dir: Path
    lake_uri: str
    dbt_vars: dict[str, str]

    @property
    def target_path(self) -> Path:
        return target_path(self.data_dir)

    def dbt(self, *args: str) -> None:
        import json

        from dbt.cli.main import dbtRunner
        cli = [*args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(self.target_path),
               "--log-path", str(self.data_dir / "spark" / "logs")]
        if self.dbt_vars:
            cli += ["--vars", json.dumps(self.dbt_vars)]
        result = dbtRunner().invoke(cli)
        if not result.success:
            failed = [f"{r.node.name}: {(r.message or '').splitlines()[0][:300]}"
                      for r in (getattr(result.result, "results", None) or [])
                      if str(r.status) in ("error", "fail")]
            detail = "; ".join(failed) or str(result.exception)
            raise RuntimeError(f"dbt {args[0]} on Spark failed: {detail}")

    def run(self, session: Any, select: tuple[str, ...] = (), seeds: bool = True) -> None:
        """Seeds (unless `seeds` is false: already loaded), then every model (or those of
        `select`) from scratch; each Python model is computed here once its parents are built,
        and its descendants after it."""
        with spark_env(self.lake_uri):
            if seeds:
                self.dbt("seed", "--full-refresh")
            self._run(session, select)

    def _run(self, session: Any, select: tuple[str, ...]) -> None:
        selection = ["--select", *select] if select else []
        later = [f"{name}+" for name in PYTHON_MODELS]
        self.dbt("run", "--full-refresh", *selection, "--exclude", *later)
        for done, (name, (table, compute)) in enumerate(PYTHON_MODELS.items(), start=1):
            write_table(session, table, compute(session))
            after = [f"{n}+" for n in list(PYTHON_MODELS)[done:]]
            descendants = [f"{name}+,{part}" for part in select] or [f"{name}+"]
            self.dbt("run", "--full-refresh", "--select", *descendants,
                     "--exclude", *PYTHON_MODELS, *after)
