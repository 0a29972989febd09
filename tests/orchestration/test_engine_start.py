"""SAYPRO_ENGINE=spark without what Spark runs on (here: no Java; without PySpark the same line
names PySpark) stops `saypro run` and the loading of the definitions at start, with one line
naming the fix. The checks that need PySpark installed (master, lake) are in tests/spark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_spark_without_java_stops_at_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAYPRO_", "DAGSTER_"))}
    env |= {"SAYPRO_ENGINE": "spark", "SAYPRO_DATA_DIR": str(tmp_path / "data"),
            "JAVA_HOME": str(tmp_path / "no-java"), "PATH": str(tmp_path / "empty")}
    run = subprocess.run([sys.executable, "-m", "orchestration.cli", "run", "--from", "2025-01",
                          "--to", "2025-01"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stderr.startswith("saypro run: SAYPRO_ENGINE=spark ")
    assert "pip install" in run.stderr or "JAVA_HOME" in run.stderr
    assert not (tmp_path / "data").exists()
    load = subprocess.run([sys.executable, "-c", "import orchestration.definitions"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert load.returncode == 1
    assert load.stderr.strip().splitlines() == [run.stderr.strip().replace("saypro run: ",
                                                                          "saypro: ")]
