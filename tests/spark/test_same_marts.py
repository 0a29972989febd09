"""The same marts on both engines (issue 26): the sample organisation is pulled and built on
DuckDB, the dbt project is built from scratch on DuckDB and on Spark (from the lake), and every
mart is compared row by row (order ignored, floats within 1e-9). Needs the `spark` extra and
Java 17: `make test-spark` installs them and runs this folder."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ingestion.settings import DEMO_PII_SALT
from orchestration.spark_build import SparkBuild, check_setup, hand_over, spark_session

REPO = Path(__file__).resolve().parents[2]
SCALE = "0.05"


def comparable(value: object) -> str:
    """One cell as text that both engines' pandas frames agree on when the SQL values are equal:
    NULL one way, instants in UTC, dates as midnight, floats to 9 decimals (integral floats as
    integers: Spark gives a nullable integer column to pandas as float)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return "NULL"
    if isinstance(value, float | np.floating) and math.isnan(value):
        return "NULL"
    if isinstance(value, dt.date | pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.isoformat()
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:.9f}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, np.ndarray | list | tuple):
        return "[" + ", ".join(comparable(item) for item in value) + "]"
    return str(value)


def rows_of(frame: pd.DataFrame) -> Counter[tuple[str, ...]]:
    return Counter(tuple(comparable(v) for v in row)
                   for row in frame.astype(object).itertuples(index=False))


def differences(mart: str, spark: pd.DataFrame, duck: pd.DataFrame) -> list[str]:
    if list(spark.columns) != list(duck.columns):
        return [f"{mart}: columns differ: Spark {list(spark.columns)}, DuckDB {list(duck.columns)}"]
    only_spark, only_duck = rows_of(spark) - rows_of(duck), rows_of(duck) - rows_of(spark)
    problems = []
    for label, rows in (("only on Spark", only_spark), ("only on DuckDB", only_duck)):
        for row in list(rows)[:3]:
            problems.append(f"{mart}: {sum(rows.values())} row(s) {label}, e.g. "
                            f"{dict(zip(spark.columns, row, strict=True))}")
    return problems


def test_comparable_tells_values_apart_and_engines_alike() -> None:
    assert comparable(None) == comparable(float("nan")) == comparable(pd.NA) == "NULL"
    assert comparable(dt.date(2025, 1, 1)) == comparable(pd.Timestamp("2025-01-01"))
    assert comparable(pd.Timestamp("2025-01-01 02:00", tz="Africa/Johannesburg")) == \
        comparable(dt.datetime(2025, 1, 1, 0, 0))
    assert comparable(8.0) == comparable(8) == "8"
    assert comparable(0.1 + 0.2) == comparable(0.3)
    assert comparable(0.3) != comparable(0.30001)
    assert comparable(True) != comparable(1)
    frame = pd.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]})
    assert differences("m", frame, frame.iloc[::-1]) == []
    changed = differences("m", frame, frame.assign(v=[1.0, 2.5]))
    assert changed[0].startswith("m: 1 row(s) only on Spark")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    check_setup()  # PySpark, dbt-spark and Java: `make test-spark` installs them
    data = tmp_path_factory.mktemp("engines") / "data"
    env = {**os.environ, "SAYPRO_DATA_DIR": str(data), "SAYPRO_PII_SALT": DEMO_PII_SALT}
    env.pop("SAYPRO_ENGINE", None)
    subprocess.run([sys.executable, "-m", "orchestration.cli", "demo", "--scale", SCALE],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=1800)
    # Both engines build from scratch with the same run settings (none: as of the data), so
    # that only the engine differs: the demo's DuckDB marts were built month by month.
    env = {k: v for k, v in env.items() if not k.startswith("SAYPRO_DBT_")}
    project = REPO / "dbt_project"
    subprocess.run([str(Path(sys.executable).with_name("dbt")), "run", "--full-refresh",
                    "--project-dir", str(project), "--profiles-dir", str(project),
                    "--target-path", str(data / "dbt_full")],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=1800)
    os.environ["SAYPRO_PII_SALT"] = DEMO_PII_SALT
    warehouse, lake = data / "warehouse.duckdb", data / "lake"
    hand_over(warehouse, str(lake))
    session = spark_session(data, DEMO_PII_SALT)
    SparkBuild(data, str(lake), {}).run(session)
    return warehouse, session


def test_every_mart_is_the_same_on_spark_and_duckdb(built: tuple[Path, object]) -> None:
    warehouse, session = built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = [name for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by 1").fetchall()]
        assert len(marts) >= 15, marts
        problems = []
        for mart in marts:
            duck = con.execute(f"select * from marts.{mart}").df()
            spark = session.sql(f"select * from marts.{mart}").toPandas()  # type: ignore[attr-defined]
            problems += differences(mart, spark, duck)
    assert not problems, "\n".join(problems)
