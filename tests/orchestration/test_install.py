"""Install paths other than `make`: the dbt manifest is parsed on demand, once, without the salt."""

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_project import DBT_PROJECT_DIR, load_project
from tests.conftest import clean_env

REPO = Path(__file__).resolve().parents[2]
SALT = "install-test-salt-3f9c2a"
NOT_FOUND = "dbt manifest not found at"
MARTS = ["fct_tickets", "fct_web_visits", "fct_enrolments", "fct_survey_responses", "kpi_values"]


def _assert_salt_not_stored(target: Path) -> None:
    for path in target.rglob("*"):
        if path.is_file():
            assert SALT.encode() not in path.read_bytes(), path


def test_missing_manifest_is_parsed_once_without_the_salt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("SAYPRO_PII_SALT", SALT)
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    with caplog.at_level(logging.WARNING, logger="orchestration.dbt_project"):
        first = load_project(project)
        load_project(project)
    assert first.manifest_path.is_file()
    assert [NOT_FOUND in r.getMessage() for r in caplog.records] == [True]
    assert not list(first.manifest_path.parent.glob(".parse-*"))
    _assert_salt_not_stored(first.manifest_path.parent)


def test_manifest_older_than_a_dbt_file_is_parsed_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A model added after the last parse (a `git pull` without `make`) reaches the manifest at
    the next import, with one log line naming the file."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    first = load_project(project)
    written = first.manifest_path.stat().st_mtime
    added = project / "models" / "marts" / "core" / "added_after_parse.sql"
    added.write_text("select 1 as one\n")
    os.utime(added, (written + 1, written + 1))
    with caplog.at_level(logging.WARNING, logger="orchestration.dbt_project"):
        load_project(project)
        load_project(project)
    stale = [r.getMessage() for r in caplog.records if "is older than" in r.getMessage()]
    assert len(stale) == 1 and "models/marts/core/added_after_parse.sql" in stale[0]
    assert "model.saypro.added_after_parse" in first.manifest_path.read_text()


def test_project_outside_a_checkout_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"pip install -e <checkout>"):
        load_project(tmp_path / "dbt_project")


def _working_tree_copy(dest: Path) -> Path:
    """The working tree as git sees it (tracked and new files, ignored ones left out): no
    `dbt_project/target`, no data, no venv."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listing.split("\0")):
        if (REPO / name).is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def _check(cmd: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_runs_two_months(tmp_path: Path) -> None:
    """`pip install -r requirements.lock` and `pip install -e` alone, then `saypro run` of
    two months, as a new user would start: each month is a Dagster run in the same process,
    on the dbt parse kept there (the second month's dbt build once failed on it).

    The lock is installed as it stands (`--no-deps`: it pins every dependency, so pip's
    resolver only repeats it) and `pip check` then confirms that what it pins fits together;
    no bytecode is compiled ahead (`--no-compile`: imports compile what they use). Both
    change nothing the run sees and take the install from about 120 s to 50 s."""
    checkout = _working_tree_copy(tmp_path / "checkout")
    assert not (checkout / "dbt_project" / "target").exists()
    venv = tmp_path / "venv"
    _check([sys.executable, "-m", "venv", venv], timeout=300)
    pip = [venv / "bin" / "python", "-m", "pip"]
    install = [*pip, "install", "--quiet", "--no-deps", "--no-compile"]
    _check([*install, "-r", checkout / "requirements.lock"], timeout=1800)
    _check([*install, "-e", checkout], timeout=600)
    _check([*pip, "check"], timeout=300)

    # Nothing of this test's venv on PATH, and no PYTHONPATH (a checkout there would shadow
    # the editable install): the new venv must find its own dbt and its own checkout.
    ours = str(Path(sys.executable).parent)
    data = tmp_path / "data"
    env = {k: v for k, v in clean_env(data).items() if k != "PYTHONPATH"} | {
        "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != ours),
        "SAYPRO_DROP_DIR": str(tmp_path / "sample"),
        "SAYPRO_PII_SALT": SALT,
    }
    saypro = venv / "bin" / "saypro"
    _check([saypro, "sample", "--out", tmp_path / "sample", "--scale", "0.05"],
           cwd=tmp_path, env=env, timeout=600)
    proc = _check([saypro, "run", "--from", "2025-01", "--to", "2025-02"],
                  cwd=tmp_path, env=env, timeout=1800)

    assert (proc.stdout + proc.stderr).count(NOT_FOUND) == 1
    target = checkout / "dbt_project" / "target"
    assert (target / "manifest.json").is_file()
    _assert_salt_not_stored(target)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for mart in MARTS:
            assert con.execute(f"select count(*) from marts.{mart}").fetchone()[0] > 0, mart
    for mart in MARTS:
        assert (data / "exports" / "marts" / f"{mart}.parquet").is_file(), mart
