"""Run every benchmark stage at the given scales and write `benchmarks/RESULTS.md`.

Each stage runs in its own process; wall time and peak memory (max RSS of the process tree,
from wait4) are measured here, the stage's own figures come back as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

PIPELINE = ["generate", "pull", "parse_floor", "dlt_pull", "validate", "dbt_full", "dbt_transform",
            "dbt_month", "floor", "reports", "dashboard", "monthly_run", "dbt_parse",
            "dagster_import", "raw_lake", "moodle_latency", "http_call_floor"]
END_TO_END = ("pull", "validate", "dbt_full", "reports")
"""The stages of a first load of the whole history, in order: their sum is the pipeline total."""
SCALE_INDEPENDENT = {"moodle_latency", "http_call_floor"}  # measured once, at the first scale
ENGINES = ["spark_transform"]
"""Stages on the optional engines (`make bench-engines`; need `pip install .[spark]`)."""


def run_stage_measured(stage: str, workdir: Path, scale: float) -> dict:
    """Like run_stage, but reaps the child with wait4 to read its own peak memory."""
    cmd = [sys.executable, "-m", "benchmarks.stages", stage, str(workdir), str(scale)]
    out_path = workdir / f".{stage}.out"
    err_path = workdir / f".{stage}.err"
    start = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"stage {stage} failed at scale {scale}:\n"
                           f"{err_path.read_text()[-4000:]}")
    figures = json.loads(out_path.read_text().strip().splitlines()[-1])
    figures["wall_seconds"] = wall
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["process_cpu_s"] = usage.ru_utime + usage.ru_stime  # with the children it reaped
    if os.environ.get("SAYPRO_DUCKDB_MEMORY_LIMIT"):  # not the default cap: say so
        figures["duckdb_memory_limit"] = os.environ["SAYPRO_DUCKDB_MEMORY_LIMIT"]
    return figures


def machine_facts() -> dict:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "machine": platform.machine()}


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def write_results(path: Path, results: dict[float, dict[str, dict]], facts: dict) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` on {facts['cores']} "
        f"cores, {facts['memory_gib']} GiB, Python {facts['python']} ({facts['machine']}).",
        "Wall seconds and peak RSS per stage, each stage in its own process; stages measured in",
        "earlier runs keep their figures (see `measured_at` in the details). The pull's peak is",
        "the connectors' process; the emulators run in their own (`sandbox` in the details).",
        "",
        "| scale | stage | wall s | peak MiB | throughput | ratio to floor |",
        "|---|---|---|---|---|---|",
    ]
    order = {stage: i for i, stage in enumerate(PIPELINE + ENGINES)}
    for scale, unordered in sorted(results.items()):
        stages = dict(sorted(unordered.items(), key=lambda kv: order.get(kv[0], len(order))))
        floor_s = stages.get("floor", {}).get("wall_seconds")
        parse_rate = stages.get("parse_floor", {}).get("records_per_s")
        for stage, fig in stages.items():
            throughput, ratio = "", ""
            if "records_per_s" in fig:
                throughput = f"{fmt(fig['records_per_s'], 0)} records/s"
            if "calls_per_s" in fig:
                throughput = (f"{fmt(fig['calls_per_s'], 0)} calls/s, {fig['enrolments']:,} "
                              f"enrolments, {fig['latency_s'] * 1000:g} ms latency")
                ratio = f"{fig['seconds'] / fig['ideal_pool_s']:.1f}x ideal pool time"
            if "cpu_ms_per_call" in fig:
                per_call = fig["cpu_ms_per_call"]
                throughput = "CPU ms per Moodle call: " + ", ".join(
                    f"{name.replace('_', '.')} {ms:.2f}" for name, ms in per_call.items())
                ratio = f"{per_call['ours'] / per_call['urllib3']:.1f}x urllib3"
            if "rows_per_s" in fig:
                throughput = f"{fmt(fig['rows_per_s'], 0)} rows/s"
                if "cpu_s" in fig and "load_1m" in fig:
                    throughput += (f"; {fig['cpu_s']:.1f} CPU s, load "
                                   f"{fig['load_1m'][0]:.1f} to {fig['load_1m'][1]:.1f}")
            if stage == "dbt_parse" and "partial_s" in fig:
                throughput = (f"{fig['seconds']:.1f} s full parse, {fig['partial_s']:.1f} s "
                              "partial (a run's new cut-off)")
                if "one_view_step_s" in fig:
                    throughput += (f"; start-up {fig['startup_s']:.1f} s; a dbt step building "
                                   f"one view {fig['one_view_step_s']:.1f} s")
                if "in_process_step_s" in fig:
                    throughput += (f"; in process {fig['in_process_first_step_s']:.1f} s first, "
                                   f"{fig['in_process_step_s']:.1f} s next")
            if stage.startswith("dbt_") and stage != "dbt_parse" and floor_s:
                ratio = f"{fig['wall_seconds'] / floor_s:.1f}x DuckDB floor"
            if stage == "pull" and parse_rate:
                ratio = f"{parse_rate / fig['records_per_s']:.1f}x slower than orjson parse"
            if stage == "spark_transform":
                throughput = (f"session {fig['session_start_s']:.1f} s, seeds "
                              f"{fig['seed_s']:.1f} s, models {fig['models_s']:.1f} s; JVM "
                              f"{fig['jvm_cpu_s']:.0f} CPU s, {fig['jvm_peak_rss_mb']:,.0f} MiB")
                if floor_s:
                    ratio = f"{fig['models_s'] / floor_s:.1f}x DuckDB floor (models)"
            if stage == "dashboard":
                slowest = fig["slowest"]
                throughput = (f"slowest page: {slowest['cold_s']:.2f} s script cold, "
                              f"{slowest['warm_s']:.2f} s warm, {slowest['browser_s']:.2f} s "
                              "in Chromium")
            if stage == "monthly_run":
                throughput = (f"{fig['steps']} steps, {fig['per_step_overhead_s']:.2f} s "
                              "Dagster overhead per step")
                if "previous_parse_s" in fig:
                    throughput += ("; from the month before's dbt parse (a first run in a "
                                   "new data dir starts from the project's)")
                if "experiment_share" in fig:
                    throughput += (f"; experiments {fig['experiment_s']:.1f} s, "
                                   f"{fig['experiment_share']:.1%} of the run")
            if stage.startswith("dbt_") and fig.get("view_node_s") is not None:
                throughput = f"{fig['view_node_s']:.2f} s per view (dbt per-model cost)"
                if fig.get("experiment_node_s") is not None:
                    throughput += (f"; experiments {fig['experiment_node_s']:.1f} of "
                                   f"{fig['node_seconds']:.1f} node s")
            if "duckdb_memory_limit" in fig:
                throughput = "; ".join(filter(None, [
                    throughput, f"DuckDB cap {fig['duckdb_memory_limit']}"]))
            peak = fig.get("connector_peak_rss_mb", fig["peak_rss_mb"])  # not the emulators'
            lines.append(f"| {scale:g} | {stage} | {fmt(fig['wall_seconds'])} | "
                         f"{fmt(peak, 0)} | {throughput} | {ratio} |")
        total = pipeline_total(stages)
        if total:
            lines.append(f"| {scale:g} | **total** ({' + '.join(END_TO_END)}) | "
                         f"{fmt(total['wall_seconds'])} | {fmt(total['peak_rss_mb'], 0)} | | "
                         + (f"{total['floor_ratio']:.1f}x both floors" if total["floor_ratio"]
                            else "") + " |")
    lines += _pull_by_source(results)
    lines += _engines(results)
    lines += ["", "Stage details (JSON):", "", "```json",
              json.dumps({f"{k:g}": v for k, v in sorted(results.items())}, indent=1,
                         default=str), "```"]
    path.write_text("\n".join(lines) + "\n")


def pipeline_total(stages: dict[str, dict]) -> dict | None:
    """The whole pipeline on the scale's history (the END_TO_END stages): wall seconds summed,
    the largest peak, and the ratio to both floors together (orjson parse of the landed JSON,
    then the DuckDB floor). None until every END_TO_END stage has been measured."""
    if not all(stage in stages for stage in END_TO_END):
        return None
    wall = sum(stages[stage]["wall_seconds"] for stage in END_TO_END)
    peak = max(stages[stage].get("connector_peak_rss_mb", stages[stage]["peak_rss_mb"])
               for stage in END_TO_END)
    floors = [stages.get(stage, {}).get("wall_seconds") for stage in ("parse_floor", "floor")]
    ratio = wall / sum(floors) if all(floors) else None
    return {"wall_seconds": wall, "peak_rss_mb": peak, "floor_ratio": ratio}


def _pull_by_source(results: dict[float, dict[str, dict]]) -> list[str]:
    """Each source's pull against orjson parsing the same landed JSON. The emulators share
    the machine's cores with the connectors, so the connectors' own CPU seconds (HTTP, landing
    and the raw merge, all threads) are compared with the floor as well as the wall time."""
    rows = []
    for scale, stages in sorted(results.items()):
        pull = stages.get("pull", {}).get("sources", {})
        floor = stages.get("parse_floor", {}).get("sources", {})
        for source, fig in pull.items():
            if "connector_cpu_s" not in fig or not floor.get(source, {}).get("seconds"):
                continue
            floor_s = floor[source]["seconds"]
            per_call = (f"{fig['connector_cpu_s'] / fig['calls'] * 1000:.2f}"
                        if fig.get("calls") else "-")
            rows.append(
                f"| {scale:g} | {source} | {fig['records']:,} | {fmt(fig['seconds'])} | "
                f"{fmt(fig['merge_s'])} | {fmt(fig['records_per_s'], 0)} | "
                f"{fmt(fig['connector_cpu_s'])} | {fig.get('calls', '-')} | {per_call} | "
                f"{fmt(fig['emulator_cpu_s'])} | "
                f"{fmt(floor_s, 2)} | {fig['seconds'] / floor_s:.1f}x | "
                f"{fig['connector_cpu_s'] / floor_s:.1f}x |")
    if not rows:
        return []
    return ["", "Pull by source: wall and the connectors' own CPU seconds against the parse "
            "floor of the same landed JSON (the emulators run on the same cores).", "",
            "| scale | source | records | wall s | of which raw merge s | records/s | "
            "connector CPU s | calls | CPU ms per call | emulator CPU s | parse floor s | "
            "wall / floor | connector CPU / floor |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|", *rows,
            *_peer(results)]


def _peer(results: dict[float, dict[str, dict]]) -> list[str]:
    """The same Zendesk and Matomo pulls with dlt (stage `dlt_pull`) beside ours (`pull`)."""
    rows = []
    for scale, stages in sorted(results.items()):
        ours = stages.get("pull", {}).get("sources", {})
        for source, peer in stages.get("dlt_pull", {}).get("sources", {}).items():
            if source not in ours:
                continue
            mine = ours[source]
            rows.append(
                f"| {scale:g} | {source} | {mine['records']:,} | {peer['records']:,} | "
                f"{fmt(mine['seconds'])} | {fmt(peer['seconds'])} | "
                f"{fmt(mine['connector_cpu_s'])} | {fmt(peer['cpu_s'])} | "
                f"{peer['seconds'] / mine['seconds']:.1f}x | "
                f"{peer['cpu_s'] / mine['connector_cpu_s']:.1f}x |")
    if not rows:
        return []
    return ["", "Peer: the same pulls with dlt's REST API source into DuckDB (`dlt_pull`; ours "
            "also lands every payload with its checksum and metadata, and keeps cursors).", "",
            "| scale | source | records (ours) | records (dlt) | wall s (ours) | wall s (dlt) | "
            "CPU s (ours) | CPU s (dlt) | dlt wall / ours | dlt CPU / ours |",
            "|---|---|---|---|---|---|---|---|---|---|", *rows]


def _engines(results: dict[float, dict[str, dict]]) -> list[str]:
    """The dbt transform on DuckDB (`dbt_transform`: every model, one process) and on Spark
    (`spark_transform`'s models: the same dbt project on a local Spark session from the
    lake) per scale, and each engine's line fitted over the scales: seconds = fixed + slope x
    landed records (least squares; the reading is in benchmarks/README.md, "Engines")."""
    points = []
    for scale, stages in sorted(results.items()):
        if {"pull", "dbt_transform", "spark_transform"} <= stages.keys():
            points.append((scale, stages["pull"]["records"],
                           stages["dbt_transform"], stages["spark_transform"]))
    if not points:
        return []
    duck_s = [duck["wall_seconds"] for _, _, duck, _ in points]
    spark_s = [spark["models_s"] for _, _, _, spark in points]
    rows = [f"| {scale:g} | {records:,} | {fmt(duck['wall_seconds'])} | "
            f"{fmt(duck.get('process_cpu_s'))} | {fmt(spark['session_start_s'])} | "
            f"{fmt(spark['seed_s'])} | {fmt(spark['models_s'])} | "
            f"{fmt(spark['driver_cpu_s'] + spark['jvm_cpu_s'])} | "
            f"{fmt(spark['jvm_peak_rss_mb'], 0)} | "
            f"{spark['models_s'] / duck['wall_seconds']:.1f}x |"
            for scale, records, duck, spark in points]
    lines = ["", "Engines: the dbt transform (every model from scratch) on DuckDB and on Spark "
             "(`local[2]`, from the raw Parquet lake), 2 cores. Spark's CPU is its driver's "
             "and its JVM's; its peak is the JVM's.", "",
             "| scale | landed records | DuckDB s | DuckDB CPU s | Spark session start s | "
             "Spark seeds s | Spark models s | Spark CPU s | Spark JVM peak MiB | "
             "Spark / DuckDB |", "|---|---|---|---|---|---|---|---|---|---|", *rows]
    if len(points) >= 2:
        millions = [records / 1e6 for _, records, _, _ in points]
        fits = {name: np.polyfit(millions, seconds, 1)
                for name, seconds in (("DuckDB", duck_s), ("Spark", spark_s))}
        lines += ["", "Fitted over the scales above (seconds = fixed + slope x millions of "
                  "landed records):", "", "| engine | fixed s | s per million records |",
                  "|---|---|---|",
                  *(f"| {name} | {fmt(fixed)} | {fmt(slope, 2)} |"
                    for name, (slope, fixed) in fits.items())]
    return lines


def previous_results(path: Path) -> dict[float, dict[str, dict]]:
    """The figures already in RESULTS.md: a run replaces the stages it measures and keeps the
    others (each stage carries its `measured_at`), so scales and stages can be run apart."""
    if not path.exists():
        return {}
    text = path.read_text()
    start, end = text.find("```json\n"), text.rfind("```")
    if start < 0 or end <= start:
        return {}
    stored = json.loads(text[start + len("```json\n"):end])
    return {float(scale): stages for scale, stages in stored.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,10", help="comma-separated, e.g. 1,10,100")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/saypro-bench"))
    parser.add_argument("--stages", default=",".join(PIPELINE))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    facts = machine_facts()
    results = previous_results(args.out)
    scales = [float(s) for s in args.scales.split(",")]
    for scale in scales:
        workdir = args.workdir / f"scale-{scale:g}"
        if "generate" in args.stages.split(","):  # a fresh run; else reuse the last one
            shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True, exist_ok=True)
        results.setdefault(scale, {})
        for stage in args.stages.split(","):
            if stage in SCALE_INDEPENDENT and scale != scales[0]:
                continue
            figures = run_stage_measured(stage, workdir, scale)
            figures["measured_at"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
            results[scale][stage] = figures
            print(f"scale {scale:g} {stage:15s} {figures['wall_seconds']:8.1f} s "
                  f"{figures['peak_rss_mb']:8.0f} MiB  "
                  + json.dumps({k: v for k, v in figures.items()
                                if k not in ("wall_seconds", "peak_rss_mb")}, default=str)[:200],
                  flush=True)
            write_results(args.out, results, facts)  # a later stage's failure keeps this one
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
