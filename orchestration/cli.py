"""`saypro`: a thin command line front to the Dagster jobs (DESIGN.md section 9)."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from ingestion.settings import DEMO_PII_SALT, Settings, SettingsError

DEMO_MONTHS = ("2025-01", "2025-12")
WRITING_COMMANDS = ("demo", "run", "report", "rebuild-raw", "dbt")
"""Commands that write to the data dir: one at a time (`orchestration.lock`)."""


def _month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month: use YYYY-MM")
    return value


def _quarter(value: str) -> str:
    if not re.fullmatch(r"\d{4}-Q[1-4]", value.upper()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a quarter: use YYYY-Qn")
    return value.upper()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="saypro",
        description="SayPro Insights pipeline: pull, validate, transform, report. Every command "
        "that runs the pipeline launches the Dagster jobs on the instance in $DAGSTER_HOME "
        "(default $SAYPRO_DATA_DIR/dagster), so runs and logs show in the UI (`saypro ui`).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate sample data, serve it from the vendor "
                          "emulators, run the whole pipeline for 2025 through the real "
                          "connectors, and print where the outputs are")
    demo.add_argument("--scale", type=float, default=1.0, help="sample volume multiplier")
    demo.add_argument("--seed", type=int, default=7)

    run = sub.add_parser("run", help="pull, validate and build every month in range in order, "
                         "then the quarters they complete; export and report")
    run.add_argument("--from", dest="first", type=_month, required=True, metavar="YYYY-MM")
    run.add_argument("--to", dest="last", type=_month, required=True, metavar="YYYY-MM")

    report = sub.add_parser("report", help="render one monthly or quarterly report from the marts")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", type=_month, metavar="YYYY-MM")
    which.add_argument("--quarter", type=_quarter, metavar="YYYY-Qn")

    sample = sub.add_parser("sample", help="write vendor-format sample data (drop-folder layout)")
    sample.add_argument("--out", required=True, type=Path, metavar="DIR")
    sample.add_argument("--scale", type=float, default=1.0)
    sample.add_argument("--seed", type=int, default=7)

    realdata = sub.add_parser("realdata", help="convert the OULAD learning records and the "
                              "NPSgame survey (../shared/realdata/) into the drop-folder layout")
    realdata.add_argument("--oulad", type=Path, metavar="DIR", help="folder of the OULAD CSVs")
    realdata.add_argument("--nps", type=Path, metavar="FILE", help="the NPSgame nps.csv")
    realdata.add_argument("--out", required=True, type=Path, metavar="DROPDIR")

    sandbox = sub.add_parser("sandbox", help="serve sample data from loopback emulators of the "
                             "Zendesk, Matomo, Moodle and KoboToolbox APIs")
    sandbox.add_argument("--data", type=Path, default=None, metavar="DIR",
                         help="sample data folder (generated if missing)")
    sandbox.add_argument("--port-base", type=int, default=8801,
                         help="Zendesk listens here, Matomo +1, Moodle +2, Kobo +3")
    sandbox.add_argument("--scale", type=float, default=1.0,
                         help="volume when the data has to be generated")
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                         help="emulated network latency added to every response")

    sub.add_parser("ui", help="start the Dagster UI and daemon (schedules) on this instance")
    _passing_on(sub, "dashboard", "serve the interactive dashboard on http://127.0.0.1:8501, "
                "reading the Parquet exports ($SAYPRO_DASHBOARD_HOST and $SAYPRO_DASHBOARD_PORT "
                "override)", "options for `streamlit run`", "-- --server.baseUrlPath=insights")
    sub.add_parser("rebuild-raw", help="rebuild every raw table from the landing files")
    _passing_on(sub, "dbt", "run a dbt command on this deployment's warehouse as the pipeline's "
                "dbt steps run it: its settings, its target folder and its parse",
                "the dbt command and its options", "-- build --select +kpi_scorecard")
    return parser


def _passing_on(sub: argparse._SubParsersAction, name: str, help_text: str, what: str,
                example: str) -> None:
    """A subcommand whose arguments after `--` go to another program (`args.passed_on`)."""
    command = sub.add_parser(name, help=help_text)
    command.add_argument("passed_on", nargs=argparse.REMAINDER, metavar="-- ARGS",
                         help=f"{what} after `--`, e.g. `{example}`")


def _passed_on(args: argparse.Namespace) -> list[str]:
    return args.passed_on[1:] if args.passed_on[:1] == ["--"] else args.passed_on


def _settings() -> Settings:
    settings = Settings.from_env()
    os.environ["SAYPRO_DATA_DIR"] = str(settings.data_dir)
    return settings


def cmd_sample(args: argparse.Namespace) -> int:
    from sandbox.generator import generate

    started = time.perf_counter()
    manifest = generate(args.out, scale=args.scale, seed=args.seed)
    elapsed = time.perf_counter() - started
    total = sum(manifest["counts"].values())
    print(f"Wrote {total:,} records to {args.out} in {elapsed:.1f} s "
          f"({total / elapsed:,.0f} records/s); planted stories in {args.out / 'stories.json'}.")
    for name, count in sorted(manifest["counts"].items()):
        print(f"  {name:<28} {count:>12,}")
    print(f"Load it without the APIs: SAYPRO_DROP_DIR={args.out} "
          "saypro run --from YYYY-MM --to YYYY-MM")
    return 0


def cmd_realdata(args: argparse.Namespace) -> int:
    from sandbox.realdata import convert_nps, convert_oulad

    if not (args.oulad or args.nps):
        print("saypro realdata: give --oulad DIR, --nps FILE or both", file=sys.stderr)
        return 2
    counts = convert_oulad(args.oulad, args.out) if args.oulad else {}
    counts |= convert_nps(args.nps, args.out) if args.nps else {}
    for name, count in sorted(counts.items()):
        print(f"  {name:<28} {count:>12,}")
    print(f"Load it without the APIs: SAYPRO_DROP_DIR={args.out} "
          "saypro run --from YYYY-MM --to YYYY-MM")
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.generator import generate
    from sandbox.process import READY_LINE
    from sandbox.server import start_sandbox

    data = args.data or _settings().data_dir / "sample"
    if not (data / "manifest.json").exists():
        print(f"Generating sample organisation data in {data} ...", flush=True)
        generate(data, scale=args.scale, seed=args.seed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with start_sandbox(data, port_base=args.port_base, latency=args.latency) as sandbox:
        print(f"Vendor emulators serving {data}. Point the pipeline at them with:", flush=True)
        for name, value in sandbox.env().items():
            print(f"export {name}={shlex.quote(value)}")
        print(f"{READY_LINE} POST /__sandbox/faults on any of them. Ctrl-C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.runner import (
        PipelineRunner,
        completed_quarters,
        months_between,
        prepare_dagster_home,
    )
    from orchestration.warehouse import set_aside_summary
    from sandbox.generator import generate
    from sandbox.process import sandbox_process

    settings = _settings()
    os.environ.setdefault("SAYPRO_PII_SALT", DEMO_PII_SALT)
    os.environ.setdefault("SAYPRO_START_DATE", f"{DEMO_MONTHS[0]}-01")
    sample_dir = settings.data_dir / "sample"
    started = time.perf_counter()
    if not (sample_dir / "manifest.json").exists():
        print(f"Generating sample organisation data in {sample_dir} ...", flush=True)
        generate(sample_dir, scale=args.scale, seed=args.seed)
    prepare_dagster_home(settings.data_dir)
    # The emulators serve from a process of their own, as the vendors' servers would, so the
    # pulls have this process's interpreter to themselves.
    with sandbox_process(sample_dir) as sandbox:
        # The demo pulls from the emulators: a drop folder set in the shell or `.env` would be
        # read instead of them (an empty value is unset, and the shell wins over `.env`).
        os.environ.update(sandbox.env, SAYPRO_DROP_DIR="")
        print("Vendor emulators on loopback: " + ", ".join(
            f"{k}={v}" for k, v in sandbox.env.items() if k.endswith("BASE_URL")), flush=True)
        runner = PipelineRunner()
        months = months_between(*DEMO_MONTHS)
        print(f"Pulling, validating and building {months[0]}..{months[-1]} ...", flush=True)
        runner.refresh_history(months[0], months[-1])
    for month in months:
        runner.report_month(month)
    for quarter in completed_quarters(months):
        runner.report_quarter(quarter)
    settings = Settings.from_env()
    print(f"\nDemo finished in {time.perf_counter() - started:.0f} s "
          f"({len(runner.runs)} Dagster runs).")
    print(set_aside_summary(settings.warehouse))
    print(f"  warehouse : {settings.warehouse}")
    print(f"  exports   : {settings.exports_dir}/<mart>.parquet")
    print(f"  reports   : {settings.reports_dir}/ (support_monthly_YYYY-MM.html, "
          "quarterly_review_YYYY-Qn.html and .md twins)")
    print(f"  quality   : {settings.quality_dir}/validation_<run_id>.html")
    print(f"  dagster   : DAGSTER_HOME={os.environ['DAGSTER_HOME']} (open with `make dev`)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.partitions import require_partitions
    from orchestration.runner import (
        PipelineRunner,
        completed_quarters,
        months_between,
        prepare_dagster_home,
    )
    from orchestration.warehouse import set_aside_summary, sources_summary

    months = months_between(args.first, args.last)
    if not months:
        print(f"--from {args.first} is after --to {args.last}: nothing to run.", file=sys.stderr)
        return 2
    require_partitions(months=months)  # every month, before the first one runs
    settings = _settings()
    settings.require_pii_salt()  # the builds need it: before the pulls, not after them
    prepare_dagster_home(settings.data_dir)
    runner = PipelineRunner()
    for month in months:
        print(f"monthly_refresh {month} ...", flush=True)
        runner.refresh_month(month)
    for quarter in completed_quarters(months):
        print(f"quarterly_review {quarter} ...", flush=True)
        runner.report_quarter(quarter)
    print(f"Done: {len(runner.runs)} runs; reports in {settings.reports_dir}")
    print(sources_summary(settings.warehouse))
    print(set_aside_summary(settings.warehouse))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.partitions import require_partitions
    from orchestration.runner import PipelineRunner, prepare_dagster_home

    require_partitions(months=[args.month] if args.month else [],
                       quarters=[args.quarter] if args.quarter else [])
    settings = _settings()
    if not settings.warehouse.exists():
        print(f"No warehouse at {settings.warehouse} yet: the report will say that every mart "
              "is missing. Run `saypro run --from YYYY-MM --to YYYY-MM` first.", file=sys.stderr)
    prepare_dagster_home(settings.data_dir)
    runner = PipelineRunner()
    if args.month:
        runner.report_month(args.month)
        name = f"support_monthly_{args.month}"
    else:
        runner.report_quarter(args.quarter)
        name = f"quarterly_review_{args.quarter}"
    print(f"{settings.reports_dir / name}.html (and .md)")
    return 0


def _paths_from_here(settings: Settings) -> dict[str, str]:
    """The data dir and the path settings that are set, as `settings` resolved them where the
    command started (absolute paths; object-store URIs as they are)."""
    paths = {"SAYPRO_DATA_DIR": str(settings.data_dir)}
    if settings.env.get("SAYPRO_WAREHOUSE"):
        paths["SAYPRO_WAREHOUSE"] = str(settings.warehouse)
    if settings.drop_dir:
        paths["SAYPRO_DROP_DIR"] = str(settings.drop_dir)
    if settings.env.get("SAYPRO_LAKE_URI"):
        paths["SAYPRO_LAKE_URI"] = settings.lake_uri
    return paths


def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration.runner import REPO_ROOT, prepare_dagster_home

    settings = _settings()
    prepare_dagster_home(settings.data_dir)
    dagster = Path(sys.executable).with_name("dagster")
    # `dagster dev` starts in the checkout (its pyproject.toml names the code location), and
    # so do the runs it launches: paths given relative to here must not move there.
    os.environ.update(_paths_from_here(settings))
    os.chdir(REPO_ROOT)
    os.execv(str(dagster), [str(dagster), "dev", "-m", "orchestration.definitions",
                            "--host", os.getenv("SAYPRO_UI_HOST", "127.0.0.1"),
                            "--port", os.getenv("SAYPRO_UI_PORT", "3000")])
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import dashboard

    settings = _settings()
    host = os.getenv("SAYPRO_DASHBOARD_HOST", "127.0.0.1")
    port = os.getenv("SAYPRO_DASHBOARD_PORT", "8501")
    options = _passed_on(args)
    app = Path(dashboard.__file__).with_name("app.py")
    print(f"SayPro dashboard on http://{host}:{port} reading {settings.exports_dir.parent}",
          flush=True)
    # headless: no browser opened, no e-mail prompt; no usage statistics sent; no file watcher;
    # the toolbar without developer actions (rerun, deploy)
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app),
                              "--server.address", host, "--server.port", port,
                              "--server.headless", "true", "--browser.gatherUsageStats", "false",
                              "--server.fileWatcherType", "none",
                              "--client.toolbarMode", "viewer", *options])
    return 0


def cmd_dbt(args: argparse.Namespace) -> int:
    from orchestration.dbt_invoke import DBT_PROJECT_DIR, run_command

    dbt_args = _passed_on(args)
    if not dbt_args:
        print("saypro dbt: name a dbt command after `--`, e.g. `saypro dbt -- build`",
              file=sys.stderr)
        return 2
    settings = _settings()
    return 0 if run_command(DBT_PROJECT_DIR, settings, dbt_args) else 1


def cmd_rebuild_raw(args: argparse.Namespace) -> int:
    from ingestion.lake import Lake, sync_warehouse
    from ingestion.raw import rebuild_raw
    from ingestion.sources import ENTITIES

    settings = _settings()
    results = rebuild_raw(settings.warehouse, settings.data_dir)
    synced = sync_warehouse(settings.warehouse, Lake.of(settings), ENTITIES)
    for result in results:
        print(f"{result.table}: {result.rows} rows from {result.files} files "
              f"({result.rejected_files} rejected, {result.unkeyed_records} without key, "
              f"{result.unreadable_records} unreadable lines or parts set aside)")
        for landing_file in result.unreadable_files:
            print(f"  {landing_file} no longer parses as JSON: its records are missing; "
                  "restore it from a backup and run this again", file=sys.stderr)
    months = sum(len(s.rewritten) + len(s.removed) for s in synced)
    print(f"lake {settings.lake_uri}: {months} table month(s) written or removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Dagster warns, whenever a job is resolved, that monthly_refresh's partitioned assets
    # back-fill differently (the period models in one run, the report per month); the runs
    # `saypro` starts are one partition each, so the warning says nothing about them.
    warnings.filterwarnings("ignore", message=r"Asset job \S+ materializes assets with "
                            r"varying BackfillPolicies")
    handlers = {"demo": cmd_demo, "run": cmd_run, "report": cmd_report, "ui": cmd_ui,
                "rebuild-raw": cmd_rebuild_raw, "sample": cmd_sample, "sandbox": cmd_sandbox,
                "realdata": cmd_realdata, "dashboard": cmd_dashboard, "dbt": cmd_dbt}
    try:
        if args.command not in WRITING_COMMANDS:
            return handlers[args.command](args)
        from ingestion.lake import Lake, check_lake
        from orchestration.lock import data_dir_lock

        settings = _settings()
        # before any pull or build: a bad lake (or Spark setup) fails here, once
        if settings.engine == "spark":
            from orchestration.spark_build import check_start

            check_start(settings)
        else:
            check_lake(Lake.of(settings))
        with data_dir_lock(settings.data_dir):
            return handlers[args.command](args)
    except (RuntimeError, SettingsError) as exc:
        print(f"saypro {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
