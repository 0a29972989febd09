"""dbt steps of the Dagster assets, run in this process (`orchestration/dbt_invoke.py`, the
parse kept between steps). dbt's events are turned into Dagster events by dagster-dbt's own
translation, exactly as for its CLI resource. See docs/ARCHITECTURE.md, "dbt in process".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from ingestion.settings import Settings
from orchestration.dbt_invoke import DbtStepError, invoke_dbt, print_log_line


def _selection_args(context: dg.AssetExecutionContext,
                    manifest: Mapping[str, Any],
                    translator: DagsterDbtTranslator) -> list[str]:
    """dbt's --select/--exclude for the assets and checks this step materialises, as dagster-dbt
    computes them (no length limit in process, so no generated selector file)."""
    select, indirect = get_subset_selection_for_context(
        context=context, manifest=manifest,
        select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=os.environ.get("DBT_INDIRECT_SELECTION"),
    )
    indirect = indirect or os.environ.get("DBT_INDIRECT_SELECTION")
    return [*select, *(["--indirect-selection", indirect] if indirect else [])]


class DbtRunnerResource(dg.ConfigurableResource):
    """Runs dbt commands in this process for the assets of a `@dbt_assets` step."""

    project_dir: str

    def build(self, context: dg.AssetExecutionContext, args: Sequence[str],
              target_path: Path, settings: Settings | None = None) -> Iterator[Any]:
        """Run `dbt <args>` for the step's selection; yield its Dagster events (outputs for
        models and seeds, check results for tests). Raises DbtStepError if dbt fails.

        The one place the engine is chosen: with `settings.engine == "spark"` the step is built
        on Spark (orchestration/spark_step.py), which yields the same kinds of events."""
        manifest_json, translator, project = get_manifest_and_translator_from_dbt_assets(
            [context.assets_def])
        selection = _selection_args(context, manifest_json, translator)
        step = DbtStep(context, Path(self.project_dir), manifest_json, translator, project)
        if settings is not None and settings.engine == "spark":
            from orchestration.spark_step import build_on_spark

            yield from build_on_spark(step, settings, args, selection)
        else:
            yield from step.run([*args, *selection], target_path)


@dataclass
class DbtStep:
    """One `@dbt_assets` step: dbt invocations in this process and their Dagster events."""

    context: dg.AssetExecutionContext
    project_dir: Path
    manifest: Mapping[str, Any]
    translator: DagsterDbtTranslator
    project: Any

    def run(self, command: Sequence[str], target_path: Path,
            keep: Callable[[dict[str, Any]], bool] | None = None) -> Iterator[Any]:
        """Run `dbt <command>`; yield the Dagster events of its results (those `keep` accepts,
        all by default); return dbt's `dbtRunnerResult` (generator return value). Raises
        DbtStepError if dbt fails."""
        self.context.log.info("dbt " + " ".join(command))
        events: list[dict[str, Any]] = []

        def collect(event: dict[str, Any]) -> None:
            events.append(event)
            print_log_line(event)

        result = invoke_dbt(self.project_dir, target_path, command, collect)
        sys.stdout.flush()
        for event in events:
            if keep is not None and not keep(event):
                continue
            message = DbtCoreCliEventMessage(raw_event=event, event_history_metadata={})
            yield from message.to_default_asset_events(
                manifest=self.manifest, dagster_dbt_translator=self.translator,
                context=self.context, target_path=target_path, project=self.project)
        if not result.success:
            errors = [e["info"]["msg"] for e in events if e["info"].get("level") == "error"]
            detail = "\n".join(errors[-20:]) or str(result.exception or "no error message")
            raise DbtStepError(f"dbt {command[0]} failed:\n{detail}")
        return result
