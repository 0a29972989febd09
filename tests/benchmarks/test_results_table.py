"""The benchmark's results table: the pipeline total and its ratio to the floors."""

import json
from pathlib import Path

from benchmarks.run import pipeline_total, write_results
from benchmarks.stages import experiment_nodes

FACTS = {"cores": 2, "memory_gib": 8.0, "python": "3.11", "machine": "x86_64"}


def _stage(wall: float, peak: float, **extra: float) -> dict:
    return {"wall_seconds": wall, "peak_rss_mb": peak, **extra}


def test_total_sums_the_end_to_end_stages_and_compares_with_both_floors() -> None:
    stages = {
        "generate": _stage(500.0, 90.0),  # the fixture, not part of the pipeline
        "pull": _stage(30.0, 400.0, connector_peak_rss_mb=300.0),
        "validate": _stage(20.0, 900.0),
        "dbt_full": _stage(40.0, 800.0),
        "reports": _stage(10.0, 200.0),
        "parse_floor": _stage(4.0, 50.0),
        "floor": _stage(6.0, 300.0),
    }
    total = pipeline_total(stages)
    assert total is not None
    assert total["wall_seconds"] == 100.0
    assert total["peak_rss_mb"] == 900.0
    assert total["floor_ratio"] == 10.0


def test_no_total_until_every_end_to_end_stage_is_measured() -> None:
    stages = {"pull": _stage(30.0, 400.0), "validate": _stage(20.0, 900.0),
              "dbt_full": _stage(40.0, 800.0)}
    assert pipeline_total(stages) is None


def test_pull_peak_is_the_connectors_not_the_emulators(tmp_path: Path) -> None:
    stages = {
        "pull": _stage(30.0, 5000.0, connector_peak_rss_mb=300.0),
        "validate": _stage(20.0, 100.0),
        "dbt_full": _stage(40.0, 200.0),
        "reports": _stage(10.0, 50.0),
    }
    assert pipeline_total(stages)["peak_rss_mb"] == 300.0
    out = tmp_path / "RESULTS.md"
    write_results(out, {1.0: stages}, FACTS)
    total_row = next(line for line in out.read_text().splitlines() if "**total**" in line)
    cells = [cell.strip() for cell in total_row.split("|")]
    assert cells[3:5] == ["100.0", "300"]
    assert cells[6] == ""  # no floors measured, so no ratio


def test_monthly_run_row_gives_the_experiments_share(tmp_path: Path) -> None:
    monthly = _stage(230.0, 1800.0, steps=13, per_step_overhead_s=0.07, experiment_s=15.5,
                     experiment_share=15.5 / 221.3)
    out = tmp_path / "RESULTS.md"
    write_results(out, {10.0: {"monthly_run": monthly}}, FACTS)
    row = next(line for line in out.read_text().splitlines() if "| monthly_run |" in line)
    assert "experiments 15.5 s, 7.0% of the run" in row


def test_experiment_nodes_are_the_tagged_ones_and_their_data_tests(tmp_path: Path) -> None:
    manifest = {"nodes": {
        "seed.p.experiments": {"resource_type": "seed", "tags": ["experiments"]},
        "model.p.experiment_results": {"resource_type": "model", "tags": ["experiments"]},
        "model.p.fct_tickets": {"resource_type": "model", "tags": []},
        "test.p.unique_results": {"resource_type": "test", "tags": [],
                                  "depends_on": {"nodes": ["model.p.experiment_results"]}},
        "test.p.unique_tickets": {"resource_type": "test", "tags": [],
                                  "depends_on": {"nodes": ["model.p.fct_tickets"]}},
    }}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert experiment_nodes(path) == {"seed.p.experiments", "model.p.experiment_results",
                                      "test.p.unique_results"}


def test_validate_row_gives_cpu_seconds_and_load(tmp_path: Path) -> None:
    validate = {**_stage(111.3, 3255.0, rows_per_s=98591.0), "cpu_s": 78.4,
                "load_1m": [6.97, 6.38]}
    out = tmp_path / "RESULTS.md"
    write_results(out, {100.0: {"validate": validate}}, FACTS)
    row = next(line for line in out.read_text().splitlines() if "| validate |" in line)
    assert "98,591 rows/s; 78.4 CPU s, load 7.0 to 6.4" in row


def test_pull_by_source_gives_cpu_per_call_and_the_dlt_peer(tmp_path: Path) -> None:
    pull = _stage(20.0, 400.0, sources={
        "moodle": {"seconds": 4.0, "records": 9000, "records_per_s": 2250.0, "merge_s": 0.5,
                   "connector_cpu_s": 1.5, "calls": 3000, "emulator_cpu_s": 0.8},
        "zendesk": {"seconds": 2.0, "records": 32000, "records_per_s": 16000.0, "merge_s": 0.4,
                    "connector_cpu_s": 0.8, "calls": 40, "emulator_cpu_s": 0.2}})
    floor = _stage(1.0, 50.0, sources={"moodle": {"seconds": 0.03},
                                       "zendesk": {"seconds": 0.1}})
    peer = _stage(50.0, 600.0, sources={
        "zendesk": {"seconds": 10.0, "records": 32000, "cpu_s": 8.0}})
    out = tmp_path / "RESULTS.md"
    write_results(out, {1.0: {"pull": pull, "parse_floor": floor, "dlt_pull": peer}}, FACTS)
    lines = out.read_text().splitlines()
    moodle = [c.strip() for c in next(ln for ln in lines if "| moodle |" in ln).split("|")]
    assert moodle[7:10] == ["1.5", "3000", "0.50"]  # CPU s, calls, CPU ms per call
    zendesk = [c.strip() for c in next(ln for ln in lines if "| zendesk | 32,000 | 32,000 |"
                                       in ln).split("|")]
    assert zendesk[5:11] == ["2.0", "10.0", "0.8", "8.0", "5.0x", "10.0x"]


def _engine_stages(records: int, duckdb_s: float, spark_models_s: float) -> dict:
    return {
        "pull": _stage(1.0, 1.0, records=records),
        "dbt_transform": _stage(duckdb_s, 500.0, process_cpu_s=duckdb_s * 1.5),
        "spark_transform": _stage(spark_models_s + 30.0, 300.0, session_start_s=10.0,
                                  seed_s=20.0, models_s=spark_models_s, driver_cpu_s=5.0,
                                  jvm_cpu_s=95.0, jvm_peak_rss_mb=4096.0),
    }


def test_engines_table_fits_each_engines_fixed_and_per_row_cost(tmp_path: Path) -> None:
    # DuckDB: 10 s + 2 s per million records; Spark: 100 s + 30 s per million records
    results = {1.0: _engine_stages(1_000_000, 12.0, 130.0),
               10.0: _engine_stages(10_000_000, 30.0, 400.0),
               100.0: _engine_stages(100_000_000, 210.0, 3100.0)}
    out = tmp_path / "RESULTS.md"
    write_results(out, results, FACTS)
    lines = out.read_text().splitlines()
    row = next(line for line in lines if line.startswith("| 10 | 10,000,000 |"))
    assert [c.strip() for c in row.split("|")][1:-1] == [
        "10", "10,000,000", "30.0", "45.0", "10.0", "20.0", "400.0", "100.0", "4,096", "13.3x"]
    assert "| DuckDB | 10.0 | 2.00 |" in lines
    assert "| Spark | 100.0 | 30.00 |" in lines


def test_engines_table_needs_both_engines_and_one_scale_gives_no_fit(tmp_path: Path) -> None:
    only_duckdb = _engine_stages(1_000_000, 12.0, 130.0)
    del only_duckdb["spark_transform"]
    out = tmp_path / "RESULTS.md"
    write_results(out, {1.0: only_duckdb}, FACTS)
    assert "Engines:" not in out.read_text()
    write_results(out, {1.0: _engine_stages(1_000_000, 12.0, 130.0)}, FACTS)
    text = out.read_text()
    assert "Engines:" in text and "Fitted over" not in text
