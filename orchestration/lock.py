"""One writer per data dir at a time: the `saypro` commands that write (and every job run the
`PipelineRunner` launches) hold an exclusive lock on `$SAYPRO_DATA_DIR/.lock`.

DuckDB lets one process write the warehouse file, and two runs on the same landing and
cursors would pull the same pages twice: a second command stops at once with a message naming
the holder instead of failing midway. The lock is `flock(2)`, so the kernel releases it when
the holder exits, even when killed: there is no stale lock to remove. It is re-entrant within
a process (the CLI holds it around the runner, which takes it again for each run).
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # lock file -> depth, in this process


class DataDirBusy(RuntimeError):
    """Another process holds the data dir."""


@contextmanager
def data_dir_lock(data_dir: Path, command: str | None = None) -> Iterator[None]:
    """Hold the data dir's lock for the block, or raise DataDirBusy at once."""
    path = (Path(data_dir) / LOCK_FILE).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "a process"
        os.close(fd)
        raise DataDirBusy(
            f"another saypro command is writing to {path.parent} ({holder}). Wait for it to "
            "finish and run this again, or set SAYPRO_DATA_DIR to another folder; nothing was "
            "changed.") from None
    what = command or " ".join(["saypro", *sys.argv[1:]])
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: `{what}`, since "
                  f"{datetime.now(UTC).isoformat(timespec='seconds')}\n".encode(), 0)
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the lock
