"""Settings from environment variables (DESIGN.md section 3); a `.env` file in the working
directory is read wherever settings are (variables already set take precedence).

Every default lives here, once. The dbt project keeps fallbacks of its own for the data dir and
the time zone, for dbt run by hand (orchestration passes every value); a test holds them equal.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from ingestion.contract import SourceCredentials
from ingestion.sources import SOURCES

DEFAULT_DATA_DIR = "./data"
DEFAULT_TIMEZONE = "Africa/Johannesburg"
DEFAULT_START_DATE = "2025-01-01"
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
"""DuckDB's own default is 80% of RAM; a cap makes large builds spill to disk instead. With
1GB every stage peaks under 2 GiB of RSS at scale 100 (10.9M records; the monthly run 1.8 GiB);
more memory makes the largest builds faster (benchmarks/README.md, "The memory default")."""
WAREHOUSE_FILE = "warehouse.duckdb"
"""The warehouse's name in the data dir when SAYPRO_WAREHOUSE is not set."""
LAKE_FOLDER = "lake"
"""The lake's folder in the data dir when SAYPRO_LAKE_URI is not set."""
DEMO_PII_SALT = "saypro-demo-salt-not-secret"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable and the fix."""


def load_env_file() -> None:
    """Read `./.env` into the process environment; a variable already set is kept."""
    load_dotenv(Path.cwd() / ".env", override=False)


def _timezone(environ: Mapping[str, str]) -> str:
    name = (environ.get("SAYPRO_TIMEZONE") or DEFAULT_TIMEZONE).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"SAYPRO_TIMEZONE={name!r} is not a time zone: use an IANA name "
                            f"such as {DEFAULT_TIMEZONE}.") from exc
    return name


def _start_date(environ: Mapping[str, str]) -> date:
    raw = environ.get("SAYPRO_START_DATE") or DEFAULT_START_DATE
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"SAYPRO_START_DATE={raw!r} is not a date: use YYYY-MM-DD.") from exc


_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)|\d+(\.\d+)?%", re.IGNORECASE)


@dataclass(frozen=True)
class DuckDBLimits:
    """What every DuckDB connection of the pipeline is given (`ingestion.connection`), the dbt
    build's too (plugin `saypro_duckdb`): beyond `memory_limit` DuckDB spills to disk; `threads`
    None leaves DuckDB's default, one per core."""

    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    threads: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DuckDBLimits:
        """From SAYPRO_DUCKDB_MEMORY_LIMIT and SAYPRO_DUCKDB_THREADS (the process environment
        and `.env` when `environ` is None)."""
        if environ is None:
            load_env_file()
            environ = os.environ
        memory = (environ.get("SAYPRO_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT).strip()
        if not _MEMORY.fullmatch(memory):
            raise SettingsError(f"SAYPRO_DUCKDB_MEMORY_LIMIT={memory!r} is not an amount of "
                                "memory: use a number and a unit, e.g. 3GB, 512MB or 50%.")
        raw_threads = (environ.get("SAYPRO_DUCKDB_THREADS") or "").strip()
        if raw_threads and not (raw_threads.isdigit() and int(raw_threads) > 0):
            raise SettingsError(f"SAYPRO_DUCKDB_THREADS={raw_threads!r} is not a number of "
                                "threads: use a whole number of at least 1, or unset it for "
                                "one per core.")
        return cls(memory, int(raw_threads) if raw_threads else None)


ENGINES = ("duckdb", "spark")
"""Engines of the dbt build (SAYPRO_ENGINE); the first is the default."""


def _check_engine(engine: str, environ: dict[str, str]) -> None:
    """SAYPRO_ENGINE names a known engine, and `spark` has what it runs on: PySpark and Java
    17 or later (PySpark 4 refuses older Java)."""
    if engine not in ENGINES:
        raise SettingsError(f"SAYPRO_ENGINE={engine!r} is not an engine: use one of "
                            f"{', '.join(ENGINES)} (default {ENGINES[0]}).")
    if engine != "spark":
        return
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        raise SettingsError("SAYPRO_ENGINE=spark but PySpark is not installed: run "
                            "`pip install .[spark]` (or set SAYPRO_ENGINE=duckdb).")
    major = _java_major(environ)
    if major is None or major < 17:
        found = "no `java` on PATH or in JAVA_HOME" if major is None else f"Java {major}"
        raise SettingsError(f"SAYPRO_ENGINE=spark needs Java 17 or later, found {found}: "
                            "install it (e.g. `apt-get install openjdk-17-jre-headless`) and "
                            "put it on PATH or set JAVA_HOME (or set SAYPRO_ENGINE=duckdb).")


def _java_major(environ: dict[str, str]) -> int | None:
    """The major version of the `java` PySpark would start (JAVA_HOME first), or None.
    `environ` may hold only the pipeline's variables: the process's PATH and JAVA_HOME count
    where it has none."""
    java_home = environ.get("JAVA_HOME", os.environ.get("JAVA_HOME"))
    java = (str(Path(java_home) / "bin" / "java") if java_home
            else shutil.which("java", path=environ.get("PATH", os.environ.get("PATH"))))
    if not java or not Path(java).is_file():
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    # `openjdk version "17.0.13" 2024-10-15`; Java 8 says "1.8.0_412"
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr)
    if found is None:
        return None
    return int(found[2] or 0) if found[1] == "1" else int(found[1])


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    timezone: str
    start_date: date
    pii_salt: str | None
    drop_dir: Path | None
    env: dict[str, str]
    engine: str = ENGINES[0]
    lake_uri: str = ""
    """SAYPRO_LAKE_URI: an absolute local folder, or an object-store URI (`s3://bucket/x`)."""
    duckdb: DuckDBLimits = DuckDBLimits()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """The settings of `environ`, or of the process environment and `./.env` when None.
        Raises SettingsError, one line naming the variable and the fix, on a bad value."""
        if environ is None:
            load_env_file()
            environ = dict(os.environ)
        data_dir = Path(environ.get("SAYPRO_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
        warehouse = Path(environ.get("SAYPRO_WAREHOUSE") or data_dir / WAREHOUSE_FILE)
        drop = environ.get("SAYPRO_DROP_DIR")
        engine = (environ.get("SAYPRO_ENGINE") or ENGINES[0]).strip().lower()
        _check_engine(engine, environ)
        lake = environ.get("SAYPRO_LAKE_URI") or str(data_dir / LAKE_FOLDER)
        return cls(
            data_dir=data_dir,
            warehouse=warehouse.resolve(),
            timezone=_timezone(environ),
            start_date=_start_date(environ),
            pii_salt=environ.get("SAYPRO_PII_SALT") or None,
            drop_dir=Path(drop).resolve() if drop else None,
            env=environ,
            engine=engine,
            lake_uri=lake if "://" in lake else str(Path(lake).resolve()),
            duckdb=DuckDBLimits.from_env(environ),
        )

    def source(self, name: str) -> SourceCredentials | None:
        """API credentials of a source, or None when its variables are not all set."""
        declaration = SOURCES[name]
        values = {k: self.env.get(k, "") for k in declaration.variables}
        if not all(values.values()):
            return None
        return SourceCredentials(name, values, declaration.secrets)

    def missing_variables(self, name: str) -> list[str]:
        return [k for k in SOURCES[name].variables if not self.env.get(k)]

    def drop_folder(self, name: str) -> Path | None:
        """`<SAYPRO_DROP_DIR>/<source>` when it exists."""
        if self.drop_dir is None:
            return None
        folder = self.drop_dir / name
        return folder if folder.is_dir() else None

    def require_pii_salt(self, *, demo: bool = False) -> str:
        """The hashing salt; outside the demo a missing salt is an error."""
        if self.pii_salt:
            return self.pii_salt
        if demo:
            return DEMO_PII_SALT
        raise SettingsError(
            "SAYPRO_PII_SALT is not set: e-mail addresses and phone numbers cannot be hashed. "
            "Set it to a long random secret (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`) and keep it stable across runs."
        )

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports" / "marts"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder, kept between runs: the next run parses only what changed."""
        return self.data_dir / "dbt_target"

    @property
    def quality_dir(self) -> Path:
        return self.data_dir / "quality"
