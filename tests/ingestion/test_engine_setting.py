"""SAYPRO_ENGINE is checked when settings are read: an unknown engine, or Spark without PySpark
or Java 17, fails with one line naming the variable and the fix."""

import importlib.util
import stat
from pathlib import Path

import pytest

from ingestion.settings import Settings, SettingsError


def _fake_java(home: Path, version_line: str) -> Path:
    """A JAVA_HOME whose `bin/java -version` prints `version_line` (as Java does, on stderr)."""
    java = home / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return home


@pytest.fixture
def pyspark_present(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "pyspark" else real(name, *a))


def test_default_and_case_of_engine() -> None:
    assert Settings.from_env({}).engine == "duckdb"
    assert Settings.from_env({"SAYPRO_ENGINE": " DuckDB "}).engine == "duckdb"


def test_unknown_engine_names_the_variable_and_the_choices() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SAYPRO_ENGINE": "snowflake"})
    assert str(error.value) == ("SAYPRO_ENGINE='snowflake' is not an engine: use one of "
                                "duckdb, spark (default duckdb).")


def test_spark_without_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real(name, *a))
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SAYPRO_ENGINE": "spark"})
    assert "pip install .[spark]" in str(error.value)
    assert str(error.value).startswith("SAYPRO_ENGINE=spark but PySpark is not installed")


@pytest.mark.usefixtures("pyspark_present")
def test_spark_without_java_or_with_old_java(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as missing:
        Settings.from_env({"SAYPRO_ENGINE": "spark", "JAVA_HOME": str(tmp_path / "none")})
    assert str(missing.value).startswith(
        "SAYPRO_ENGINE=spark needs Java 17 or later, found no `java` on PATH or in JAVA_HOME")
    old = _fake_java(tmp_path / "jdk8", 'openjdk version "1.8.0_412"')
    with pytest.raises(SettingsError) as too_old:
        Settings.from_env({"SAYPRO_ENGINE": "spark", "JAVA_HOME": str(old)})
    assert "found Java 8:" in str(too_old.value)
    eleven = _fake_java(tmp_path / "jdk11", 'openjdk version "11.0.2" 2019-01-15')
    with pytest.raises(SettingsError) as also_old:
        Settings.from_env({"SAYPRO_ENGINE": "spark", "JAVA_HOME": str(eleven)})
    assert "found Java 11:" in str(also_old.value)
    seventeen = _fake_java(tmp_path / "jdk17", 'openjdk version "17.0.13" 2024-10-15')
    assert Settings.from_env({"SAYPRO_ENGINE": "spark",
                              "JAVA_HOME": str(seventeen)}).engine == "spark"
