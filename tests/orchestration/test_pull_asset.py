"""The pull asset in a Dagster run: a permanent failure (here rejected credentials) fails the
asset at once, naming the source and the fix, without the retries meant for transient ones
(DESIGN.md section 5)."""

from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion import SOURCE_ASSETS
from orchestration.resources import SourceResource, WarehouseResource
from sandbox.server import SandboxHandle


def test_rejected_credentials_fail_the_pull_at_once(tmp_path: Path,
                                                    clean_sandbox: SandboxHandle) -> None:
    values = {k: v for k, v in clean_sandbox.env().items() if k.startswith("ZENDESK_")}
    values["ZENDESK_API_TOKEN"] = "not-the-token"
    result = dg.materialize(
        [SOURCE_ASSETS["zendesk"]],
        resources={"warehouse": WarehouseResource(data_dir=str(tmp_path)),
                   "zendesk": SourceResource(name="zendesk", values=values)},
        raise_on_error=False)
    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "zendesk: HTTP 401" in message and "ZENDESK_API_TOKEN" in message
    assert "not-the-token" not in message
