"""A `@dbt_assets` step built on Apache Spark (SAYPRO_ENGINE=spark; docs/DEPLOYMENT.md, section 7).

The step's selection (dagster-dbt's, as on DuckDB) runs with dbt's `spark` target in the
process's one Spark session (`spark_build.shared_session`), and yields the same kinds of
Dagster events: outputs with dbt's metadata for models and seeds, check results for tests.
Differences from the DuckDB step, each because Spark needs it:

- Whole rebuilds. Every model is rebuilt from the lake (`--full-refresh`) and the period
  models (tag `period`) with every month: their month-by-month delete+insert has no Spark
  form on plain Parquet tables (no DELETE; `insert_overwrite` without partitions replaces the
  whole table). The numbers are those of the DuckDB run: its period step rebuilds the run's
  month plus every month whose visits differ from what was built (`web_months_behind`), which
  leaves the same rows as a whole rebuild.
- Python models (dbt-spark runs none outside Databricks) are computed here by the build
  driver's functions (`spark_build.PYTHON_MODELS`, in its order) between dbt invocations:
  first the selection without them and their descendants, then after each Python model what
  waits for it (and for no later one) and its tests.
- Models that are ephemeral on DuckDB but tables on Spark (`reread_materialization`) are no
  Dagster assets; they are built with the step that reads them.
- Serving copies: every mart and seed built is published into the DuckDB warehouse
  (`spark_build.publish`), so exports, reports, the dashboard and the checks read the Spark
  build's tables exactly as they read DuckDB's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import dagster as dg

from ingestion.lake import Lake
from ingestion.settings import Settings
from orchestration.spark_build import (
    PYTHON_MODELS,
    hand_over,
    publish,
    shared_session,
    spark_env,
    target_path,
    write_table,
)


class DbtStep(Protocol):
    """`orchestration.dbt_runner.DbtStep` (which calls this module: no import back)."""

    context: dg.AssetExecutionContext
    manifest: Mapping[str, Any]
    translator: Any

    def run(self, command: Sequence[str], target_path: Path,
            keep: Callable[[dict[str, Any]], bool] | None = None) -> Iterator[Any]: ...

# The run settings of the period models, emptied: on Spark they are rebuilt with every month.
WHOLE_PERIOD = {"SAYPRO_DBT_PERIOD_START": "", "SAYPRO_DBT_PERIOD_END": "",
                "SAYPRO_DBT_EXTRA_MONTHS": ""}
BUILT = {"success", "pass"}


def _closure(start: Iterable[str], edges: Mapping[str, Sequence[str]],
             through: set[str] | None = None) -> set[str]:
    """Nodes reachable from `start` along `edges` (only through `through` when given)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen and (through is None or nxt in through):
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _option(args: Sequence[str], name: str) -> list[str]:
    """The values of option `name` in dbt arguments `args` (after each occurrence)."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == name]


def build_on_spark(step: DbtStep, settings: Settings, args: Sequence[str],
                   selection: Sequence[str]) -> Iterator[Any]:
    """Run `dbt <args> <selection>` of `step` on Spark (see the module's docstring); yield its
    Dagster events. Raises DbtStepError if dbt fails."""
    session = shared_session(settings.data_dir, settings.require_pii_salt())
    lake = Lake.of(settings)
    hand_over(settings.warehouse, settings.lake_uri)
    nodes, context = step.manifest["nodes"], step.context
    selected = {uid for uid, node in nodes.items()
                if node["resource_type"] in ("model", "seed", "snapshot")
                and node.get("config", {}).get("materialized") != "ephemeral"
                and step.translator.get_asset_key(node) in context.selected_asset_keys}
    ephemeral = {uid for uid, node in nodes.items() if node["resource_type"] == "model"
                 and node["config"]["materialized"] == "ephemeral"}
    read_ephemeral = _closure(selected, step.manifest["parent_map"], ephemeral)
    python = {uid: name for uid, node in nodes.items()
              if (name := node["name"]) in PYTHON_MODELS and uid in selected}
    base = [*args, "--full-refresh"]
    indirect = _option(selection, "--indirect-selection")
    first = [*base, *selection]
    if read_ephemeral:
        first += ["--select", " ".join(".".join(nodes[uid]["fqn"]) for uid in read_ephemeral)]
    if python:
        first += ["--exclude", " ".join(f"{name}+" for name in python.values())]

    def keep(event: dict[str, Any]) -> bool:  # no events for models that are no asset
        return event["data"].get("node_info", {}).get("unique_id") not in ephemeral

    target = target_path(settings.data_dir)
    with spark_env(settings.lake_uri, WHOLE_PERIOD):
        result = yield from step.run(first, target, keep)
        _publish(step, session, lake, settings, result)
        if not python:
            return
        order = sorted(python, key=lambda uid: list(PYTHON_MODELS).index(python[uid]))
        children = step.manifest["child_map"]
        for done, uid in enumerate(order, start=1):
            started = time.perf_counter()
            table, compute = PYTHON_MODELS[python[uid]]
            frame = compute(session)
            write_table(session, table, frame)
            yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(
                step.translator.get_asset_key(nodes[uid])), metadata={
                    "unique_id": uid, "dagster/row_count": len(frame),
                    "execution_duration": time.perf_counter() - started,
                    "computed_by": "the Spark build driver (orchestration/spark_build.py)"})
            # what waits for this model but not for a later one, and this model's tests
            waiting = set(order[done:]) | _closure(order[done:], children)
            now = ((selected | read_ephemeral) & _closure([uid], children)) - waiting
            tests = {test for test in children[uid] if test.startswith("test.")
                     and not waiting & set(step.manifest["parent_map"][test])}
            if not now | tests:
                continue
            then = [*base, "--select", " ".join(".".join(nodes[node]["fqn"])
                                                for node in sorted(now | tests)),
                    *(["--indirect-selection", indirect[-1]] if indirect else [])]
            result = yield from step.run(then, target, keep)
            _publish(step, session, lake, settings, result)


def _publish(step: DbtStep, session: Any, lake: Lake, settings: Settings, result: Any) -> None:
    """Publish the marts and seeds that dbt built successfully into the DuckDB warehouse."""
    nodes = step.manifest["nodes"]
    tables: dict[str, dict[str, str | None]] = {}
    for run in getattr(result.result, "results", None) or []:
        node = nodes.get(run.node.unique_id)
        if node is None or str(run.status) not in BUILT:
            continue
        if node["resource_type"] == "seed" or (
                node["resource_type"] == "model" and node["schema"] == "marts"
                and node["config"]["materialized"] != "ephemeral"):
            tables[f"{node['schema']}.{node['alias']}"] = {
                name: column.get("data_type") for name, column in node["columns"].items()
            } if node["resource_type"] == "model" else {}
    publish(session, lake, settings.warehouse, tables)
