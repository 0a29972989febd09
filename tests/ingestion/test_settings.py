"""One settings object (ingestion/settings.py): every default once, `.env` read where settings
are, a bad value as one line naming the variable and the fix, and one DuckDB connection helper
(ingestion/connection.py) that gives every connection the memory cap and threads."""

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.connection import connect
from ingestion.settings import (
    DEFAULT_DATA_DIR,
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_START_DATE,
    DEFAULT_TIMEZONE,
    DuckDBLimits,
    Settings,
    SettingsError,
)

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("ingestion", "quality", "reports", "orchestration", "dashboard", "transforms")


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A process environment without the pipeline's variables, restored after the test (also
    what `.env` adds to it), and a working directory without `.env`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAYPRO_")}
    monkeypatch.setattr(os, "environ", env)
    monkeypatch.chdir(tmp_path)
    return env


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    return con.execute("SELECT current_setting(?)", [name]).fetchone()[0]


def _memory_as_duckdb_shows(limit: str) -> object:
    with duckdb.connect() as con:
        con.execute("SET memory_limit = ?", [limit])
        return _setting(con, "memory_limit")


def test_defaults_are_design_section_3() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("data").resolve()
    assert settings.warehouse == Path("data/warehouse.duckdb").resolve()
    assert settings.timezone == "Africa/Johannesburg"
    assert settings.start_date == date(2025, 1, 1)
    assert settings.lake_uri == str(Path("data/lake").resolve())
    assert settings.engine == "duckdb"
    assert settings.duckdb == DuckDBLimits("1GB", None)


def test_every_default_is_written_once_in_the_packages() -> None:
    """The literals of the defaults appear in ingestion/settings.py only (docstrings aside,
    which quote them in backticks or prose, never as a Python string)."""
    literals = [f'"{value}"' for value in (DEFAULT_TIMEZONE, DEFAULT_START_DATE,
                                           DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_DATA_DIR)]
    literals += ['"SAYPRO_DUCKDB_MEMORY_LIMIT", "1GB"', "'Africa/Johannesburg'"]
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text()
            for literal in literals:
                if literal in text:
                    found.setdefault(literal, []).append(str(path.relative_to(REPO)))
    assert found == {f'"{v}"': ["ingestion/settings.py"] for v in (
        DEFAULT_TIMEZONE, DEFAULT_START_DATE, DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_DATA_DIR)}


def test_dbt_fallbacks_equal_the_settings_defaults() -> None:
    """dbt run by hand needs fallbacks of its own (orchestration passes every value): the time
    zone (macro local_timezone) and the data dir (profile). The memory cap, threads and the
    session time zone come from the settings themselves (plugin saypro_duckdb)."""
    macros = (REPO / "dbt_project/macros/staging.sql").read_text()
    profile = (REPO / "dbt_project/profiles.yml").read_text()
    assert re.findall(r"env_var\('SAYPRO_TIMEZONE', '([^']*)'\)", macros) == [DEFAULT_TIMEZONE]
    assert re.findall(r"env_var\('SAYPRO_DATA_DIR', '([^']*)'\)", profile) == ["data"]
    assert Path("data") == Path(DEFAULT_DATA_DIR)
    assert "env_var('SAYPRO_TIMEZONE'" not in profile
    assert "env_var('SAYPRO_DUCKDB" not in profile


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SAYPRO_TIMEZONE", "Mars/Base", "SAYPRO_TIMEZONE='Mars/Base' is not a time zone: use an "
     "IANA name such as Africa/Johannesburg."),
    ("SAYPRO_START_DATE", "2025-13-01", "SAYPRO_START_DATE='2025-13-01' is not a date: use "
     "YYYY-MM-DD."),
    ("SAYPRO_DUCKDB_MEMORY_LIMIT", "3", "SAYPRO_DUCKDB_MEMORY_LIMIT='3' is not an amount of "
     "memory: use a number and a unit, e.g. 3GB, 512MB or 50%."),
    ("SAYPRO_DUCKDB_THREADS", "0", "SAYPRO_DUCKDB_THREADS='0' is not a number of threads: use "
     "a whole number of at least 1, or unset it for one per core."),
    ("SAYPRO_ENGINE", "oracle", "SAYPRO_ENGINE='oracle' is not an engine: use one of duckdb, "
     "spark (default duckdb)."),
])
def test_a_bad_value_is_one_line_naming_the_variable_and_the_fix(
        name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({name: value})
    assert str(error.value) == message


@pytest.mark.parametrize(("value", "shown"), [("512MB", "512MB"), (" 1.5 GiB ", "1.5 GiB"),
                                              ("50%", "50%"), ("2gb", "2gb")])
def test_memory_limits_duckdb_accepts(value: str, shown: str) -> None:
    limits = DuckDBLimits.from_env({"SAYPRO_DUCKDB_MEMORY_LIMIT": value,
                                    "SAYPRO_DUCKDB_THREADS": "2"})
    assert limits == DuckDBLimits(shown, 2)
    _memory_as_duckdb_shows(limits.memory_limit)  # DuckDB parses it too


def test_dotenv_in_the_working_directory_is_read_and_real_variables_win(
        environ: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SAYPRO_TIMEZONE=Europe/London\nSAYPRO_START_DATE=2024-06-01\n"
                                   "SAYPRO_DUCKDB_MEMORY_LIMIT=700MB\n")
    environ["SAYPRO_START_DATE"] = "2024-09-01"
    settings = Settings.from_env()
    assert settings.timezone == "Europe/London"
    assert settings.start_date == date(2024, 9, 1)
    assert settings.duckdb.memory_limit == "700MB"
    assert DuckDBLimits.from_env().memory_limit == "700MB"


def test_build_resources_reads_dotenv(environ: dict[str, str], tmp_path: Path) -> None:
    """The Dagster resources are configured from the environment and `.env` too (not only
    when the CLI started the process)."""
    from orchestration.resources import build_resources, pipeline_settings

    (tmp_path / ".env").write_text("SAYPRO_TIMEZONE=Europe/Paris\n"
                                   "SAYPRO_DUCKDB_THREADS=3\n")
    warehouse = build_resources()["warehouse"].process_config_and_initialize()
    settings = pipeline_settings(warehouse)
    assert settings.timezone == "Europe/Paris"
    assert settings.duckdb == DuckDBLimits(DEFAULT_DUCKDB_MEMORY_LIMIT, 3)
    assert settings.start_date == date.fromisoformat(DEFAULT_START_DATE)


def test_connect_applies_the_given_limits(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb", limits=DuckDBLimits("300MB", 1)) as con:
        assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("300MB")
        assert _setting(con, "threads") == 1


def test_connect_without_limits_reads_the_settings(environ: dict[str, str]) -> None:
    environ["SAYPRO_DUCKDB_MEMORY_LIMIT"] = "456MB"
    environ["SAYPRO_DUCKDB_THREADS"] = "1"
    with connect() as con:
        assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("456MB")
        assert _setting(con, "threads") == 1


def test_connect_with_a_bad_setting_fails_before_opening(environ: dict[str, str],
                                                         tmp_path: Path) -> None:
    environ["SAYPRO_DUCKDB_MEMORY_LIMIT"] = "plenty"
    with pytest.raises(SettingsError, match=r"^SAYPRO_DUCKDB_MEMORY_LIMIT='plenty'"):
        connect(tmp_path / "w.duckdb")
    assert not (tmp_path / "w.duckdb").exists()


@pytest.fixture
def observer(tmp_path: Path):
    """A connection held open on a new warehouse: connections the code under test opens on
    the same file in this process share its database, so their limits show here."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        yield tmp_path / "warehouse.duckdb", con


def test_validation_honours_the_limits(observer: tuple[Path, duckdb.DuckDBPyConnection],
                                       tmp_path: Path) -> None:
    from quality.validate import validate_all

    warehouse, con = observer
    validate_all(warehouse, run_id="r1", as_of=datetime(2025, 2, 1, tzinfo=UTC),
                 report_dir=tmp_path / "quality", limits=DuckDBLimits("321MB", 1))
    assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("321MB")
    assert _setting(con, "threads") == 1


def test_validation_without_limits_takes_the_settings(
        observer: tuple[Path, duckdb.DuckDBPyConnection], environ: dict[str, str]) -> None:
    """Validation used to cap DuckDB at a fixed 1GB, whatever SAYPRO_DUCKDB_MEMORY_LIMIT said."""
    from quality.validate import validate_entity

    warehouse, con = observer
    environ["SAYPRO_DUCKDB_MEMORY_LIMIT"] = "2GB"
    validate_entity(warehouse, "zendesk", "tickets", run_id="r1",
                    as_of=datetime(2025, 2, 1, tzinfo=UTC))
    assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("2GB")


def test_reports_and_exports_honour_the_limits(
        observer: tuple[Path, duckdb.DuckDBPyConnection], tmp_path: Path) -> None:
    from reports.common import Marts
    from reports.exports import export_marts

    warehouse, con = observer
    export_marts(warehouse, tmp_path / "exports" / "marts", DuckDBLimits("222MB", 1))
    assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("222MB")
    marts = Marts(warehouse, DuckDBLimits("333MB", 2))
    marts.close()
    assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("333MB")
    assert _setting(con, "threads") == 2


def test_dbt_plugin_gives_dbt_the_settings(environ: dict[str, str]) -> None:
    """The dbt build's DuckDB: memory cap, threads and no insertion order on the database, time
    zone on every cursor, read when dbt opens the warehouse."""
    import sys

    sys.path.insert(0, str(REPO / "dbt_project" / "plugins"))
    try:
        from saypro_duckdb import Plugin
    finally:
        sys.path.remove(str(REPO / "dbt_project" / "plugins"))
    plugin = Plugin("saypro_duckdb", {})
    environ.update(SAYPRO_DUCKDB_MEMORY_LIMIT="444MB", SAYPRO_DUCKDB_THREADS="1",
                   SAYPRO_TIMEZONE="America/Bogota")
    with duckdb.connect() as con:
        plugin.configure_connection(con)
        cursor = con.cursor()
        plugin.configure_cursor(cursor)
        assert _setting(con, "memory_limit") == _memory_as_duckdb_shows("444MB")
        assert _setting(con, "threads") == 1
        assert _setting(cursor, "preserve_insertion_order") is False
        assert _setting(cursor, "TimeZone") == "America/Bogota"
