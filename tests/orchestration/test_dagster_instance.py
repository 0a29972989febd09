"""The Dagster instance `saypro` and `make` prepare: offline by default, and kept up to date."""

import hashlib
import logging
from pathlib import Path

import dagster as dg
import pytest
from dagster_shared.telemetry import get_telemetry_enabled_from_dagster_yaml

from orchestration import runner
from orchestration.runner import REPO_ROOT, prepare_dagster_home

OLD_CONFIG = "telemetry:\n  enabled: false\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DAGSTER_HOME; an unstamped copy counts as a copy of OLD_CONFIG."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setattr(runner, "FIRST_DAGSTER_YAML_SHA256",
                        hashlib.sha256(OLD_CONFIG.encode()).hexdigest())
    return tmp_path / "dagster"


def test_ui_opens_without_signup_dialog_and_telemetry_is_off(home: Path) -> None:
    assert prepare_dagster_home(home.parent) == home
    with dg.DagsterInstance.get() as instance:
        assert instance.get_settings("nux") == {"enabled": False}
        assert not instance.nux_enabled
        assert not instance.telemetry_enabled
    # The check the dagster CLI makes before loading the instance.
    assert not get_telemetry_enabled_from_dagster_yaml()


def test_unedited_copy_of_an_older_version_is_refreshed(home: Path) -> None:
    home.mkdir()
    (home / "dagster.yaml").write_text(OLD_CONFIG)
    prepare_dagster_home(home.parent)
    assert (home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()
    assert not (home / "dagster.yaml.new").exists()
    with dg.DagsterInstance.get() as instance:
        assert not instance.nux_enabled


def test_edited_copy_is_kept_and_the_new_version_put_beside_it_once(
        home: Path, caplog: pytest.LogCaptureFixture) -> None:
    home.mkdir()
    edited = OLD_CONFIG + "run_monitoring:\n  enabled: true\n"
    (home / "dagster.yaml").write_text(edited)
    with caplog.at_level(logging.WARNING, logger="orchestration.runner"):
        prepare_dagster_home(home.parent)
        prepare_dagster_home(home.parent)
    assert (home / "dagster.yaml").read_text() == edited
    assert (home / "dagster.yaml.new").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()
    assert ["dagster.yaml.new" in r.getMessage() for r in caplog.records] == [True]


def test_current_copy_is_left_alone(home: Path) -> None:
    prepare_dagster_home(home.parent)
    config = home / "dagster.yaml"
    before = config.stat().st_mtime_ns
    prepare_dagster_home(home.parent)
    assert config.stat().st_mtime_ns == before
