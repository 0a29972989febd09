"""Secrets never reach a file (DESIGN.md sections 3 and 5): after the demo, not one file under the
data dir (landing, raw and marts in the warehouse, dbt's target folder, logs and parse cache,
Dagster's storage, exports, reports) nor under dbt_project/target holds the PII salt or an API
token, and no view definition embeds a salt."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingestion.settings import DEMO_PII_SALT
from sandbox.server import CREDENTIALS

REPO = Path(__file__).resolve().parents[1]
SECRETS = {
    "SAYPRO_PII_SALT": DEMO_PII_SALT,
    "ZENDESK_API_TOKEN": CREDENTIALS["zendesk_token"],
    "MATOMO_TOKEN": CREDENTIALS["matomo_token"],
    "MOODLE_TOKEN": CREDENTIALS["moodle_token"],
    "KOBO_TOKEN": CREDENTIALS["kobo_token"],
}


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_no_file_holds_the_salt_or_a_token(demo_run: tuple[Path, str]) -> None:
    data_dir, _ = demo_run
    files = _files(data_dir, REPO / "dbt_project" / "target")
    assert len(files) > 100 and any(p.name == "warehouse.duckdb" for p in files)
    leaks = [f"{name} in {path}" for path in files for name, value in SECRETS.items()
             if value.encode() in path.read_bytes()]
    assert not leaks, leaks


@pytest.mark.slow
def test_hashes_come_from_a_function_not_an_inlined_salt(demo_run: tuple[Path, str]) -> None:
    data_dir, _ = demo_run
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        views = con.execute("SELECT schema_name, view_name FROM duckdb_views() "
                            "WHERE NOT internal AND (sql ILIKE '%sha256%' "
                            "OR sql ILIKE '%saypro_pii_hash%')").fetchall()
        hashed = con.execute("SELECT count(email_hash) FROM staging.stg_zendesk__users"
                             ).fetchone()[0]
    assert views == []
    assert hashed > 0
