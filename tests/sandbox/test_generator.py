"""The sample generator: deterministic, scalable, with the planted stories in the raw data."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from sandbox.generator import generate


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=0.03, seed=5)
    generate(tmp_path / "b", scale=0.03, seed=5)
    generate(tmp_path / "c", scale=0.03, seed=6)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_volume_scales(tmp_path: Path) -> None:
    small = generate(tmp_path / "s", scale=0.1)["counts"]
    large = generate(tmp_path / "l", scale=0.4)["counts"]
    for entity in ("zendesk/tickets", "matomo/visits", "kobo/feedback"):
        assert large[entity] == pytest.approx(4 * small[entity], rel=0.15)


def test_refuses_to_write_into_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(tmp_path / "x", scale=0.01)


def test_stories_are_described_and_present(sandbox_data: Path) -> None:
    stories = {s["id"]: s for s in json.loads((sandbox_data / "stories.json").read_text())}
    assert {"payment_surge", "low_capacity_month", "ec_youth_completion_drop"} <= set(stories)
    tickets = str(sandbox_data / "zendesk" / "tickets" / "*.jsonl")
    share = dict(duckdb.sql(f"""
        SELECT month(created_at::TIMESTAMPTZ) BETWEEN 7 AND 9 AS q3,
               avg(list_contains(tags, 'payment_failed')::INT)
        FROM read_json_auto('{tickets}') GROUP BY 1""").fetchall())
    assert share[True] > 3 * share[False]
