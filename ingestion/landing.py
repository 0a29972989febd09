"""Landing store: every page or file is written unmodified with its load metadata before parsing.

Layout (docs/ARCHITECTURE.md): `landing/<source>/<entity>/<load_id>/<seq>.<ext>` plus
`<seq>.<ext>.meta.json`. Files are written to a temporary name, fsynced and renamed, so a page
counts as landed only once its meta file exists; cursors advance only after that.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.payloads import Readability, encoding_of


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either the old or the complete new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def new_load_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LandedFile:
    path: Path
    meta: dict[str, Any]


class LoadWriter:
    """Writes the pages of one load (one connector run for one entity)."""

    def __init__(self, root: Path, source: str, entity: str, load_id: str) -> None:
        self.source = source
        self.entity = entity
        self.load_id = load_id
        self.folder = root / source / entity / load_id
        self.seq = 0
        self.records = 0
        self.rejected = 0

    def land(
        self,
        payload: bytes,
        *,
        request: dict[str, Any],
        records_path: str | None,
        record_count: int,
        fmt: str = "json",
        extra: dict[str, Any] | None = None,
        original_name: str | None = None,
        status: str = "ok",
        error: str | None = None,
        record_extras: list[dict[str, Any]] | None = None,
        readability: Readability | None = None,
    ) -> LandedFile:
        """Durably land one payload; `status='rejected'` keeps unparseable bodies for forensics.

        `extra` adds keys to every record of the payload; `record_extras` (JSON lines only)
        adds keys per line, for lines that are each one whole vendor response. The payload's
        encoding is recorded, and `readability` (drop files) describes what cannot be read."""
        self.seq += 1
        path = self.folder / f"{self.seq:06d}.{fmt}"
        meta = {
            "source": self.source,
            "entity": self.entity,
            "load_id": self.load_id,
            "seq": self.seq,
            "loaded_at": datetime.now(UTC).isoformat(),
            "request": request,
            "checksum": hashlib.sha256(payload).hexdigest(),
            "bytes": len(payload),
            "format": fmt,
            "records_path": records_path,
            "extra": extra or {},
            "record_extras": record_extras,
            "record_count": record_count,
            "original_name": original_name,
            "status": status,
            "error": error,
            "encoding": encoding_of(payload),
            **(readability.meta() if readability else {}),
        }
        atomic_write(path, payload)
        atomic_write(path.with_name(path.name + ".meta.json"), json.dumps(meta).encode())
        if status == "ok":
            self.records += record_count
        else:
            self.rejected += 1
        return LandedFile(path, meta)


class LandingStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "landing"

    def new_load(self, source: str, entity: str, load_id: str | None = None) -> LoadWriter:
        return LoadWriter(self.root, source, entity, load_id or new_load_id())

    def metas(self, source: str, entity: str) -> Iterator[dict[str, Any]]:
        for meta_path in sorted((self.root / source / entity).glob("*/*.meta.json")):
            yield json.loads(meta_path.read_bytes())


class CursorStore:
    """Incremental cursors, one small JSON file per source entity, replaced atomically."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "state" / "cursors"

    def _path(self, source: str, entity: str) -> Path:
        return self.folder / f"{source}__{entity}.json"

    def get(self, source: str, entity: str) -> dict[str, Any] | None:
        path = self._path(source, entity)
        return json.loads(path.read_bytes()) if path.exists() else None

    def set(self, source: str, entity: str, cursor: dict[str, Any]) -> None:
        atomic_write(self._path(source, entity), json.dumps(cursor, sort_keys=True).encode())


class DropLedger:
    """Drop-folder files already loaded, by (source, entity, name, sha256). The file is read
    once per ledger (one ledger per load) and `add` keeps what was read current: asking per
    file would read the whole ledger again for every file, time growing with files x history."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state" / "drop_ledger.jsonl"
        self._read: set[tuple[str, str, str, str]] | None = None

    def _entries(self) -> set[tuple[str, str, str, str]]:
        if self._read is None:
            self._read = set()
            if self.path.exists():
                for line in self.path.read_text().splitlines():
                    if line.strip():
                        row = json.loads(line)
                        self._read.add((row["source"], row["entity"], row["name"],
                                        row["sha256"]))
        return self._read

    def seen(self, source: str, entity: str, name: str, sha256: str) -> bool:
        return (source, entity, name, sha256) in self._entries()

    def add(self, source: str, entity: str, name: str, sha256: str, load_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        row = {"source": source, "entity": entity, "name": name, "sha256": sha256,
               "load_id": load_id, "loaded_at": datetime.now(UTC).isoformat()}
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._entries().add((source, entity, name, sha256))
