"""Launch the pipeline's jobs on the Dagster instance, so CLI runs show in the UI with logs."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ingestion.settings import Settings
from orchestration.lock import data_dir_lock
from orchestration.partitions import quarter_label, quarter_partition_key

REPO_ROOT = Path(__file__).resolve().parents[1]
MONTHLY_REPORT = dg.AssetKey(["reports", "support_monthly"])
QUARTERLY_REPORT = dg.AssetKey(["reports", "quarterly_review"])
# The repo's dagster.yaml as copied before copies were stamped (commit 4e31af6): such a copy,
# unedited, is refreshed like a stamped one.
FIRST_DAGSTER_YAML_SHA256 = "1156069a895f2172149b0ab137ad9e1e2deaf58c18c9c13ba90e7725a4eb1175"

log = logging.getLogger(__name__)


def prepare_dagster_home(data_dir: Path) -> Path:
    """Use `$DAGSTER_HOME` if set, else `<data dir>/dagster`, holding the repo's dagster.yaml.

    A copy is refreshed when the repo's file changes, unless it was edited since it was made:
    then the new version is put beside it as `dagster.yaml.new`, with one warning. The hash of
    the last version copied is kept in `.dagster.yaml.sha256`."""
    if os.getenv("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"])
    else:
        home = data_dir.resolve() / "dagster"
        os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    if not source.exists():
        return home
    config, stamp = home / "dagster.yaml", home / ".dagster.yaml.sha256"
    latest = _sha256(source)
    copied = stamp.read_text().strip() if stamp.exists() else FIRST_DAGSTER_YAML_SHA256
    current = _sha256(config) if config.exists() else None
    if current is None or current == copied != latest:
        shutil.copyfile(source, config)
    elif latest not in (current, copied):
        shutil.copyfile(source, home / "dagster.yaml.new")
        log.warning("%s was edited, so the repo's new dagster.yaml was not copied over it: it is "
                    "beside it as dagster.yaml.new; merge the two by hand", config)
    if copied != latest:
        stamp.write_text(latest + "\n")
    return home


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class RunSummary:
    job: str
    partition: str | None
    run_id: str
    success: bool


class PipelineRunner:
    """Runs named jobs of the code location in-process on the persistent instance, each
    holding the data dir's lock (`orchestration.lock`: one writer at a time)."""

    def __init__(self) -> None:
        from orchestration.definitions import defs

        self.defs = defs
        self.instance = dg.DagsterInstance.get()
        self.runs: list[RunSummary] = []

    def _execute(self, job_name: str, *, partition_key: str | None = None,
                 selection: Sequence[dg.AssetKey] | None = None,
                 tags: dict[str, str] | None = None) -> RunSummary:
        job = self.defs.resolve_job_def(job_name)
        with data_dir_lock(Settings.from_env().data_dir):
            result = job.execute_in_process(
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                instance=self.instance, partition_key=partition_key,
                asset_selection=list(selection) if selection else None,
                tags=tags, raise_on_error=False,
            )
        summary = RunSummary(job_name, partition_key or (tags or {}).get(
            "dagster/asset_partition_range_start"), result.run_id, result.success)
        self.runs.append(summary)
        if not result.success:
            failures = [_failure_reason(e) for e in result.all_events if e.is_failure]
            raise RuntimeError(
                f"Run {result.run_id} of job {job_name} ({summary.partition or 'all'}) failed: "
                + " | ".join(m for m in failures if m)[:3000]
                + "\nOpen the Dagster UI (`make dev`) for the logs, fix the cause, and re-run: "
                "re-runs are idempotent."
            )
        return summary

    def refresh_history(self, first_month: str, last_month: str) -> RunSummary:
        """One run that pulls, validates and builds every month in the range at once."""
        job = self.defs.resolve_job_def("monthly_refresh")
        keys = [k for k in job.asset_layer.asset_graph.materializable_asset_keys
                if k != MONTHLY_REPORT and k != QUARTERLY_REPORT]
        return self._execute("monthly_refresh", selection=keys, tags={
            "dagster/asset_partition_range_start": first_month,
            "dagster/asset_partition_range_end": last_month,
        })

    def refresh_month(self, month: str) -> RunSummary:
        return self._execute("monthly_refresh", partition_key=month)

    def report_month(self, month: str) -> RunSummary:
        return self._execute("monthly_refresh", partition_key=month, selection=[MONTHLY_REPORT])

    def report_quarter(self, quarter: str) -> RunSummary:
        return self._execute("quarterly_review", partition_key=quarter_partition_key(quarter))


def _failure_reason(event: dg.DagsterEvent) -> str:
    """A failure event's message with the error behind it: a failed step's event says only
    that it failed, and Dagster wraps what the step raised (a missing setting, dbt's failing
    model) in errors of its own; the first error below those is the one to show."""
    error = event.step_failure_data.error if event.is_step_failure else None
    while error is not None and error.cause is not None and (
            error.cls_name or "").startswith("Dagster"):
        error = error.cause
    reason = error.message.strip() if error is not None else ""
    return f"{event.message}: {reason}" if reason else (event.message or "")


def months_between(first: str, last: str) -> list[str]:
    y, m = (int(x) for x in first.split("-"))
    end = tuple(int(x) for x in last.split("-"))
    out = []
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def completed_quarters(months: list[str]) -> list[str]:
    """Quarters ('YYYY-Qn') whose last month is in `months`, in order."""
    return [quarter_label(f"{m[:4]}-{int(m[5:]) - 2:02d}") for m in months
            if int(m[5:]) % 3 == 0]
