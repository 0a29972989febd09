"""The vendor emulators in a process of their own (`saypro sandbox`), as the vendors' servers
are: serving does not compete with the connectors for one interpreter's GIL, so on two cores
the pulls run about as fast as against real APIs (`saypro demo`, the benchmarks)."""

from __future__ import annotations

import os
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

READY_LINE = "Faults:"
"""`saypro sandbox` prints its `export NAME=value` lines, then a line starting with this once it
serves."""
STOP_TIMEOUT_S = 30.0
"""How long the emulators get to stop after SIGTERM before they are killed."""


@dataclass
class SandboxProcess:
    """A running `saypro sandbox`: the API variables that point the connectors at it, its
    pid and start-up seconds; its peak RSS and CPU seconds once it has stopped."""

    env: dict[str, str]
    pid: int
    startup_s: float
    stopped: dict[str, float] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        """Start-up seconds, and peak RSS and CPU seconds once stopped (the benchmarks)."""
        return {"startup_s": self.startup_s, **self.stopped}


@contextmanager
def sandbox_process(sample: Path, latency: float = 0.0) -> Iterator[SandboxProcess]:
    """Serve `sample` (a generated sample's folder) from `saypro sandbox` on free loopback
    ports until the block ends."""
    cmd = [sys.executable, "-m", "orchestration.cli", "sandbox", "--data", str(sample),
           "--port-base", "0", "--latency", str(latency)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    env: dict[str, str] = {}
    usage = None
    try:
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export "):].strip().partition("=")
                env[name] = shlex.split(value)[0]
            if line.startswith(READY_LINE):
                break
        if proc.poll() is not None or not env:
            raise RuntimeError(f"`saypro sandbox --data {sample}` did not start (exit code "
                               f"{proc.poll()}); its error is above")
        # Nothing more is expected on stdout; drained all the same, so it can never block.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        handle = SandboxProcess(env, proc.pid, time.perf_counter() - started)
        yield handle
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            usage = _reap(proc)
    if usage is not None:
        handle.stopped.update(peak_rss_mb=usage.ru_maxrss / 1024,
                              cpu_s=usage.ru_utime + usage.ru_stime)


def _reap(proc: subprocess.Popen[str]) -> resource.struct_rusage:
    """Wait for `proc` to end (killed if it has not within STOP_TIMEOUT_S) and return its
    resource usage; reaped here, so Popen is told its exit code."""
    deadline: float | None = time.monotonic() + STOP_TIMEOUT_S
    while not (reaped := os.wait4(proc.pid, os.WNOHANG))[0]:
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            deadline = None
        time.sleep(0.02)
    _, status, usage = reaped
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage
