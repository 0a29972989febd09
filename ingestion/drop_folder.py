"""Drop-folder mode: load vendor export files from `<SAYPRO_DROP_DIR>/<source>/<entity>/`.

Each file lands unmodified, once: a file already loaded with the same name and checksum is
skipped (DESIGN.md section 4). `.json` files hold a list of items or an object with the API's
list key (e.g. `{"tickets": [...]}`); `.jsonl` one item per line; `.csv` one item per row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.landing import DropLedger, LandingStore
from ingestion.raw import ENTITIES

FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
LIST_KEYS = {
    ("zendesk", "tickets"): "tickets",
    ("zendesk", "ticket_events"): "ticket_events",
    ("zendesk", "users"): "users",
    ("zendesk", "articles"): "articles",
    ("kobo", "registration"): "results",
    ("kobo", "feedback"): "results",
    ("moodle", "grades"): "usergrades",
}


@dataclass
class DropLoadResult:
    source: str
    load_ids: dict[str, str] = field(default_factory=dict)
    files_loaded: int = 0
    files_skipped: int = 0
    records: int = 0
    records_by_entity: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _json_records_path(source: str, entity: str, payload: bytes) -> tuple[str | None, int]:
    """Where the items are in a .json drop file, and how many there are."""
    doc = json.loads(payload)
    if isinstance(doc, list):
        return None, len(doc)
    key = LIST_KEYS.get((source, entity))
    if key and isinstance(doc.get(key), list):
        return key, len(doc[key])
    return "$", 1


def _count_records(fmt: str, payload: bytes) -> int:
    lines = [line for line in payload.splitlines() if line.strip()]
    return len(lines) - 1 if fmt == "csv" else len(lines)


def load_drop_folder(folder: Path, data_dir: Path, source: str) -> DropLoadResult:
    """Land every new file under `folder/<entity>/` for one source."""
    store = LandingStore(data_dir)
    ledger = DropLedger(data_dir)
    result = DropLoadResult(source)
    entities = [e for (s, e) in ENTITIES if s == source]
    for entity in entities:
        files = sorted(p for p in (folder / entity).glob("*") if p.suffix.lower() in FORMATS)
        writer = None
        for path in files:
            payload = path.read_bytes()
            digest = hashlib.sha256(payload).hexdigest()
            if ledger.seen(source, entity, path.name, digest):
                result.files_skipped += 1
                continue
            fmt = FORMATS[path.suffix.lower()]
            try:
                if fmt == "json":
                    records_path, count = _json_records_path(source, entity, payload)
                else:
                    records_path, count = None, _count_records(fmt, payload)
                status, error = "ok", None
            except (ValueError, AttributeError) as exc:
                records_path, count, status = None, 0, "rejected"
                error = (f"{source}/{entity}/{path.name}: not valid JSON ({exc}); "
                         "fix the export and drop it again")
                result.errors.append(error)
            writer = writer or store.new_load(source, entity)
            writer.land(payload, request={"method": "FILE", "endpoint": str(path)},
                        records_path=records_path, record_count=count, fmt=fmt,
                        original_name=path.name, status=status, error=error)
            ledger.add(source, entity, path.name, digest, writer.load_id)
            result.files_loaded += 1
            result.records += count if status == "ok" else 0
            result.records_by_entity[entity] = (result.records_by_entity.get(entity, 0)
                                                + (count if status == "ok" else 0))
        if writer is not None:
            result.load_ids[entity] = writer.load_id
    return result
