"""The saypro command line: documented subcommands and argument validation."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from orchestration.cli import _passed_on, _paths_from_here, build_parser

DESIGN_COMMANDS = ["demo", "run", "report", "sample", "sandbox"]


def test_help_documents_every_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "orchestration.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in [*DESIGN_COMMANDS, "ui", "rebuild-raw", "dashboard", "dbt"]:
        assert command in out


@pytest.mark.parametrize("argv", [
    ["run", "--from", "2025-13", "--to", "2025-12"],
    ["run", "--from", "2025-01"],
    ["report", "--quarter", "2025-Q5"],
    ["report", "--month", "2025-01", "--quarter", "2025-Q1"],
])
def test_invalid_arguments_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        build_parser().parse_args(argv)
    assert excinfo.value.code == 2


def test_quarter_is_normalised() -> None:
    args = build_parser().parse_args(["report", "--quarter", "2025-q3"])
    assert args.quarter == "2025-Q3"


@pytest.mark.parametrize(("argv", "passed_on"), [
    (["dashboard", "--", "--server.baseUrlPath=insights"], ["--server.baseUrlPath=insights"]),
    (["dashboard"], []),
    (["dbt", "--", "build", "--select", "kpi_values"], ["build", "--select", "kpi_values"]),
    (["dbt", "test", "--select", "kpi_values"], ["test", "--select", "kpi_values"]),
])
def test_arguments_after_the_separator_go_to_the_other_program(
        argv: list[str], passed_on: list[str]) -> None:
    assert _passed_on(build_parser().parse_args(argv)) == passed_on


def _saypro(*argv: str, **kwargs: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def test_sample_writes_vendor_files_in_the_drop_folder_layout(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    process = _saypro("sample", "--out", str(out), "--scale", "0.05", "--seed", "3")
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["scale"] == 0.05
    for name, count in manifest["counts"].items():
        lines = sum(len(p.read_bytes().splitlines()) for p in (out / name).glob("*.jsonl"))
        assert lines == count, name
        assert f"{count:,}" in stdout
    assert json.loads((out / "stories.json").read_text())


def _start_sandbox(sandbox_data: Path) -> tuple[subprocess.Popen, int, dict[str, str]]:
    """`saypro sandbox` on four consecutive free ports. A probed port can be taken by another
    process before the sandbox binds it, so a failed start is tried again on other ports."""
    for _ in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        process = _saypro("sandbox", "--data", str(sandbox_data), "--port-base", str(port))
        exports = {}
        for line in process.stdout:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
            if line.startswith("Faults:"):
                return process, port, exports
        process.communicate(timeout=30)
    raise AssertionError("saypro sandbox did not start on five port ranges")


def test_sandbox_serves_until_terminated(sandbox_data: Path) -> None:
    process, port, exports = _start_sandbox(sandbox_data)
    try:
        assert exports["ZENDESK_BASE_URL"] == f"http://127.0.0.1:{port}"
        assert exports["KOBO_BASE_URL"] == f"http://127.0.0.1:{port + 3}"
        response = requests.get(f"{exports['ZENDESK_BASE_URL']}/api/v2/help_center/articles.json",
                                auth=(f"{exports['ZENDESK_EMAIL']}/token",
                                      exports["ZENDESK_API_TOKEN"]), timeout=10)
        assert response.status_code == 200 and response.json()["articles"]
        denied = requests.get(f"{exports['ZENDESK_BASE_URL']}/api/v2/help_center/articles.json",
                              auth=("someone/token", "wrong"), timeout=10)
        assert denied.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def _month_now() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return f"{datetime.now(ZoneInfo('Africa/Johannesburg')):%Y-%m}"


@pytest.mark.parametrize(("argv", "says"), [
    (["run", "--from", "2024-11", "--to", "2025-01"],
     "2024-11 is before SAYPRO_START_DATE (2025-01-01)"),
    (["run", "--from", "2025-01", "--to", _month_now()], f"{_month_now()} is not over yet"),
    (["report", "--month", _month_now()], f"{_month_now()} is not over yet"),
    (["report", "--quarter", "2024-Q4"], "2024-Q4 is before SAYPRO_START_DATE"),
])
def test_periods_outside_the_partitions_are_refused_before_anything_runs(
        tmp_path: Path, argv: list[str], says: str) -> None:
    """A month before the history's start, or one not over yet: one line saying which and
    why, no traceback, and nothing run (a range is checked whole before its first month)."""
    from tests.conftest import clean_env

    data = tmp_path / "data"
    proc = _saypro(*argv, env=clean_env(data) | {"SAYPRO_PII_SALT": "x",
                                                "SAYPRO_TIMEZONE": "Africa/Johannesburg"})
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert says in stderr and "Traceback" not in stderr, stderr
    assert not (data / "dagster").exists() and not (data / "warehouse.duckdb").exists()


def test_run_without_the_salt_stops_before_pulling(tmp_path: Path, sandbox_data: Path) -> None:
    from tests.conftest import clean_env

    data = tmp_path / "data"
    proc = _saypro("run", "--from", "2025-01", "--to", "2025-01",
                   env=clean_env(data) | {"SAYPRO_DROP_DIR": str(sandbox_data)})
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "SAYPRO_PII_SALT is not set" in stderr and "Traceback" not in stderr, stderr
    assert not (data / "landing").exists() and not (data / "dagster").exists()


def test_the_ui_keeps_paths_given_relative_to_where_it_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`saypro ui` starts Dagster in the checkout: relative path settings (and the default
    `./data`) are made absolute where the command started first."""
    from ingestion.settings import Settings

    monkeypatch.chdir(tmp_path)
    assert _paths_from_here(Settings.from_env({})) == {"SAYPRO_DATA_DIR": str(tmp_path / "data")}
    paths = _paths_from_here(Settings.from_env({
        "SAYPRO_DATA_DIR": "org/data", "SAYPRO_DROP_DIR": "exports",
        "SAYPRO_WAREHOUSE": "/srv/wh.duckdb", "SAYPRO_LAKE_URI": "s3://bucket/lake"}))
    assert paths == {"SAYPRO_DATA_DIR": str(tmp_path / "org" / "data"),
                     "SAYPRO_DROP_DIR": str(tmp_path / "exports"),
                     "SAYPRO_WAREHOUSE": "/srv/wh.duckdb", "SAYPRO_LAKE_URI": "s3://bucket/lake"}
