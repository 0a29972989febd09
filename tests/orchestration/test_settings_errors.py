"""A bad setting stops the CLI and the loading of the Dagster definitions with one line that
names the variable and the fix, never a traceback; both read `.env` of the working directory."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = env | {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("command", [["run", "--from", "2025-01", "--to", "2025-01"],
                                     ["report", "--month", "2025-01"], ["dashboard"]])
def test_cli_prints_one_line(tmp_path: Path, command: list[str]) -> None:
    env = clean_env(tmp_path / "data") | {"SAYPRO_DUCKDB_MEMORY_LIMIT": "lots"}
    proc = _run(["-m", "orchestration.cli", *command], tmp_path, env)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (f"saypro {command[0]}: SAYPRO_DUCKDB_MEMORY_LIMIT='lots' is not an "
                           "amount of memory: use a number and a unit, e.g. 3GB, 512MB or 50%.\n")
    assert not (tmp_path / "data").exists()  # stopped before anything was written


def test_cli_reads_dotenv_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SAYPRO_DUCKDB_THREADS=none\nSAYPRO_TIMEZONE=Mars/Base\n")
    env = clean_env(tmp_path / "data")
    proc = _run(["-m", "orchestration.cli", "rebuild-raw"], tmp_path,
                env | {"SAYPRO_TIMEZONE": "Europe/London"})
    assert proc.returncode == 1
    assert proc.stderr == ("saypro rebuild-raw: SAYPRO_DUCKDB_THREADS='none' is not a number "
                           "of threads: use a whole number of at least 1, or unset it for one "
                           "per core.\n")


def test_dagster_definitions_print_one_line(tmp_path: Path) -> None:
    """As `dagster dev`, `dagster definitions validate` or a run worker load them; the value
    comes from `.env` here."""
    (tmp_path / ".env").write_text("SAYPRO_TIMEZONE=Mars/Base\n")
    proc = _run(["-c", "import orchestration.definitions"], tmp_path,
                clean_env(tmp_path / "data"))
    assert proc.returncode == 1
    assert proc.stderr == ("saypro: SAYPRO_TIMEZONE='Mars/Base' is not a time zone: use an "
                           "IANA name such as Africa/Johannesburg.\n")
