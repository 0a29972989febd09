"""The quality asset in a Dagster run: row failures are quarantined and the run goes on; a
blocking failure stops the dependent assets and says what failed."""

import json
from pathlib import Path

import dagster as dg
import duckdb

from ingestion.landing import LandingStore
from ingestion.raw import rebuild_raw
from orchestration.asset_keys import QUARANTINE_KEY
from orchestration.defs.quality import quarantine
from orchestration.resources import WarehouseResource


@dg.asset(deps=[QUARANTINE_KEY])
def staging_probe() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"ran": True})


def _ticket(i: int, status: str = "open") -> dict:
    return {"id": i, "created_at": "2025-03-01T08:00:00Z", "updated_at": "2025-03-02T08:00:00Z",
            "status": status, "priority": "normal", "requester_id": 100 + i,
            "via": {"channel": "web"}, "tags": ["login_issue"]}


def _land_tickets(data_dir: Path, tickets: list[dict]) -> None:
    load = LandingStore(data_dir).new_load("zendesk", "tickets")
    load.land(json.dumps({"tickets": tickets}).encode(), request={}, records_path="tickets",
              record_count=len(tickets))
    rebuild_raw(data_dir / "warehouse.duckdb", data_dir)


def _run(data_dir: Path) -> dg.ExecuteInProcessResult:
    resource = WarehouseResource(data_dir=str(data_dir))
    return dg.materialize([quarantine, staging_probe], resources={"warehouse": resource},
                          raise_on_error=False)


def _check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def test_bad_rows_are_quarantined_and_downstream_runs(tmp_path: Path) -> None:
    tickets = [_ticket(i) for i in range(1, 30)] + [_ticket(30, status="reslved")]
    _land_tickets(tmp_path, tickets)
    result = _run(tmp_path)
    assert result.success
    assert _check(result, "zendesk__tickets_valid").passed
    assert result.asset_materializations_for_node("staging_probe")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT record_key, reason FROM quality.quarantine").fetchall()
    assert [r[0] for r in rows] == ["30"]
    assert "reslved" in rows[0][1]
    [materialization] = result.asset_materializations_for_node("quality__quarantine")
    assert materialization.metadata["dagster/row_count"].value == 1


def test_blocking_failure_stops_downstream(tmp_path: Path) -> None:
    _land_tickets(tmp_path, [_ticket(i, status="zzz") for i in range(1, 8)])
    result = _run(tmp_path)
    evaluation = _check(result, "zendesk__tickets_valid")
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "status" in (evaluation.description or "")
    assert not result.asset_materializations_for_node("staging_probe")
