"""The dbt project as Dagster sees it (DESIGN.md s.2).

Dagster reads the dbt manifest when the definitions are imported. `make` parses the project
whenever dbt files change; any other install path (`pip install -e .`, a fresh clone) gets it
parsed here once, on first import, and `dagster dev` re-parses at every start to pick up edits.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.dbt_invoke import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE, with_parse_environment

# Measured: about 5 s on two cores; said with some margin for slower machines.
PARSE_SECONDS = 10

log = logging.getLogger(__name__)


def parse_project(project: DbtProject) -> None:
    """Write the project's manifest with `dbt parse`, run by this interpreter (the venv need not
    be on PATH), in the environment of every parse (`dbt_invoke.parse_environment`: no PII salt,
    the warehouse by its file name) and without SAYPRO_ENGINE. The files are moved into place
    once complete, as other processes may be reading them; the partial-parse file is where the
    first parse of a new data dir starts."""
    target = project.project_dir / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    # The manifest Dagster reads is the DuckDB target's whatever SAYPRO_ENGINE says: one asset
    # graph for both engines (models that Spark writes as tables but DuckDB inlines are no
    # assets; orchestration/spark_step.py builds them with their readers).
    env = with_parse_environment(os.environ)
    env.pop("SAYPRO_ENGINE", None)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    with tempfile.TemporaryDirectory(dir=target, prefix=".parse-") as scratch:
        result = subprocess.run(
            [sys.executable, "-m", "dbt.cli.main", "parse", "--quiet",
             "--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
             "--target-path", scratch, "--log-path", scratch],
            env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"`dbt parse` of {project.project_dir} failed:\n"
                               + (result.stdout + result.stderr)[-3000:])
        partial = Path(scratch) / PARTIAL_PARSE_FILE  # absent if partial parsing is off
        if partial.exists():
            os.replace(partial, target / partial.name)
        os.replace(Path(scratch) / "manifest.json", project.manifest_path)


PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py"}


def stale_sources(project: DbtProject) -> list[Path]:
    """dbt files changed since the manifest was written (after a `git pull` without `make`):
    Dagster would otherwise run jobs from a graph that no longer matches the files."""
    written = project.manifest_path.stat().st_mtime
    folders = ("models", "macros", "seeds", "tests", "plugins")
    candidates = [project.project_dir / "dbt_project.yml", project.project_dir / "profiles.yml",
                  *(path for folder in folders
                    for path in (project.project_dir / folder).rglob("*")
                    if path.suffix in PROJECT_FILE_SUFFIXES)]
    return [path for path in candidates if path.stat().st_mtime > written]


def load_project(project_dir: Path = DBT_PROJECT_DIR) -> DbtProject:
    """The dbt project with a manifest ready to read."""
    if not (project_dir / "dbt_project.yml").is_file():
        raise RuntimeError(
            f"The dbt project is not at {project_dir}: SayPro Insights runs from its source "
            "checkout. Install it editable from there: `pip install -e <checkout>` (or `make "
            "install`), not `pip install .`."
        )
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    if not project.manifest_path.exists():
        log.warning("dbt manifest not found at %s; parsing the dbt project once (about %d s)",
                    project.manifest_path, PARSE_SECONDS)
        parse_project(project)
    elif project.preparer.using_dagster_dev():
        parse_project(project)
    elif changed := stale_sources(project):
        log.warning("dbt manifest at %s is older than %d dbt file(s) (first: %s); parsing the "
                    "dbt project again (about %d s)", project.manifest_path, len(changed),
                    changed[0].relative_to(project.project_dir), PARSE_SECONDS)
        parse_project(project)
    return project


dbt_project = load_project()
