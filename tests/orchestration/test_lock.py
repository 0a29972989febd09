"""One writer per data dir: a second writing command stops at once naming the holder; the lock
is re-entrant in its process and freed when the holder dies, even by SIGKILL."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from orchestration.lock import data_dir_lock

REPO = Path(__file__).resolve().parents[2]
SAYPRO = Path(sys.executable).with_name("saypro")
HOLD = """
import sys, time
from pathlib import Path
from orchestration.lock import data_dir_lock
with data_dir_lock(Path(sys.argv[1]), "saypro run --from 2025-01 --to 2025-03"):
    print("held", flush=True)
    time.sleep(120)
"""


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "SAYPRO_DATA_DIR": str(data_dir),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def test_a_second_writer_stops_at_once_naming_the_holder(tmp_path: Path) -> None:
    with data_dir_lock(tmp_path, "saypro run --from 2025-01 --to 2025-01"):
        with data_dir_lock(tmp_path):  # the runner takes it again inside the command
            pass
        proc = subprocess.run([str(SAYPRO), "rebuild-raw"], env=_env(tmp_path), cwd=REPO,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1
        assert proc.stderr.startswith(
            f"saypro rebuild-raw: another saypro command is writing to {tmp_path} "
            f"(pid {os.getpid()}: `saypro run --from 2025-01 --to 2025-01`, since ")
        assert "nothing was changed" in proc.stderr
        assert not (tmp_path / "warehouse.duckdb").exists()
    proc = subprocess.run([str(SAYPRO), "rebuild-raw"], env=_env(tmp_path), cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_the_lock_of_a_killed_holder_is_free(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], env=_env(tmp_path),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert f"pid {holder.pid}" in (tmp_path / ".lock").read_text()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        with data_dir_lock(tmp_path, "saypro demo"):
            assert f"pid {os.getpid()}: `saypro demo`" in (tmp_path / ".lock").read_text()
    finally:
        if holder.poll() is None:
            holder.kill()
