"""Drop-folder mode: load vendor export files from `<SAYPRO_DROP_DIR>/<source>/<entity>/`.

Each file lands unmodified, once: a file already loaded with the same name and checksum is
skipped (DESIGN.md section 4). `.json` files hold a list of items or an object with the API's
list key (e.g. `{"tickets": [...]}`); `.jsonl` one item per line; `.csv` one item per row.
What cannot be read is described in the landing metadata (`ingestion.payloads`) and set aside
record by record; a file is rejected only when nothing in it can be read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.landing import DropLedger, LandingStore
from ingestion.payloads import check
from ingestion.sources import SOURCES

FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass
class DropLoadResult:
    source: str
    load_ids: dict[str, str] = field(default_factory=dict)
    files_loaded: int = 0
    files_skipped: int = 0
    records: int = 0
    records_by_entity: dict[str, int] = field(default_factory=dict)
    unreadable_by_entity: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Files rejected whole: nothing in them can be read."""
    warnings: list[str] = field(default_factory=list)
    """Files that load with lines set aside, and empty files."""


def load_drop_folder(folder: Path, data_dir: Path, source: str) -> DropLoadResult:
    """Land every new file under `folder/<entity>/` for one source."""
    store = LandingStore(data_dir)
    ledger = DropLedger(data_dir)
    result = DropLoadResult(source)
    for declared in SOURCES[source].entities:
        entity = declared.name
        files = sorted(p for p in (folder / entity).glob("*") if p.suffix.lower() in FORMATS)
        writer = None
        for path in files:
            payload = path.read_bytes()
            digest = hashlib.sha256(payload).hexdigest()
            if ledger.seen(source, entity, path.name, digest):
                result.files_skipped += 1
                continue
            fmt = FORMATS[path.suffix.lower()]
            found = check(fmt, payload, declared.list_key)
            label = f"{source}/{entity}/{path.name}"
            status, error = "ok", None
            if found.error:
                status = "rejected"
                error = (f"{label}: nothing in it can be read: {found.error}. Fix the export "
                         "and drop it again: UTF-8 text holding a JSON list of records, an "
                         "object with the API's record list, one JSON record per line "
                         "(.jsonl), or CSV with a header row")
                result.errors.append(error)
            elif found.bad_line_count:
                first = found.bad_lines[0]
                result.warnings.append(
                    f"{label}: {found.bad_line_count} unreadable part(s) set aside, "
                    f"{found.record_count} records load (line {first['line']}: "
                    f"{first['reason']}); listed in raw._unreadable_records")
            elif not found.record_count:
                result.warnings.append(f"{label} holds no records: nothing to load")
            writer = writer or store.new_load(source, entity)
            writer.land(payload, request={"method": "FILE", "endpoint": str(path)},
                        records_path=found.records_path, record_count=found.record_count,
                        fmt=fmt, original_name=path.name, status=status, error=error,
                        readability=found)
            ledger.add(source, entity, path.name, digest, writer.load_id)
            result.files_loaded += 1
            readable = found.record_count if status == "ok" else 0
            result.records += readable
            result.records_by_entity[entity] = result.records_by_entity.get(entity, 0) + readable
            if found.bad_line_count:
                result.unreadable_by_entity[entity] = (
                    result.unreadable_by_entity.get(entity, 0) + found.bad_line_count)
        if writer is not None:
            result.load_ids[entity] = writer.load_id
    return result
