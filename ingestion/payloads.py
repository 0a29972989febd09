"""What in a payload can be read: its text encoding, the unreadable lines of a JSON-lines file,
and the readable part of a `.json` document that does not parse whole.

Landing keeps every payload byte for byte. These checks only describe it, in the landing
metadata (`encoding`, `bad_lines`, `bad_line_count`, `readable`), and the raw builder reads
the payload by that description (docs/ARCHITECTURE.md, "Landing metadata"):

- bytes that are not UTF-8 are read as Windows-1252 (cp1252, the encoding of spreadsheet
  exports on Windows; its five undefined bytes as Latin-1), each invalid sequence on its own,
  so the UTF-8 text around them is kept; a UTF-8 byte-order mark is dropped;
- a JSON-lines file is checked line by line (orjson, which is stricter than DuckDB's reader,
  so a line it accepts never fails the raw build); a line that does not parse is set aside
  with its number and the reason, the others load;
- a `.json` document that does not parse keeps the items of its record list that come
  before the damage (an export cut off midway); what follows is set aside as one entry.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import orjson

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF8_CP1252 = "utf-8+cp1252"
"""Encodings recorded in the landing metadata: UTF-8, UTF-8 after a byte-order mark, and UTF-8
with some bytes read as cp1252."""

REASONS_KEPT = 1000
"""Unreadable lines described one by one in the metadata; beyond, only counted."""
TEXT_PREFIX_CHARS = 200


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    text = ""
    for byte in error.object[error.start:error.end]:
        try:
            text += bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: undefined in cp1252
            text += chr(byte)
    return text, error.end


codecs.register_error("saypro-cp1252", _cp1252_fallback)


def encoding_of(payload: bytes) -> str:
    """UTF8, UTF8_BOM or UTF8_CP1252 (some bytes are not UTF-8)."""
    body = payload[len(codecs.BOM_UTF8):] if payload.startswith(codecs.BOM_UTF8) else payload
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return UTF8_CP1252
    return UTF8 if body is payload else UTF8_BOM


def as_utf8(payload: bytes, encoding: str) -> bytes:
    """The payload as plain UTF-8 (no byte-order mark), as the readers need it."""
    if payload.startswith(codecs.BOM_UTF8):
        payload = payload[len(codecs.BOM_UTF8):]
    if encoding == UTF8_CP1252:
        return payload.decode("utf-8", errors="saypro-cp1252").encode()
    return payload


@dataclass
class Readability:
    """What a payload's check found, for its landing metadata."""

    records_path: str | None = None
    record_count: int = 0
    bad_lines: list[dict[str, Any]] = field(default_factory=list)
    bad_line_count: int = 0
    readable: dict[str, Any] | None = None
    """`.json` only: `{"bytes": n, "closing": "]}"}` when only the first n bytes (as UTF-8)
    can be read; closed with `closing`, they are the document minus its damaged end."""
    error: str | None = None
    """Set when nothing in the payload can be read: the file is rejected, and `bad_lines`
    holds one entry for the whole file."""

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.bad_line_count:
            out["bad_lines"] = self.bad_lines
            out["bad_line_count"] = self.bad_line_count
        if self.readable:
            out["readable"] = self.readable
        return out


def _rejected(error: str, line: int | None, text: bytes | str | None) -> Readability:
    return Readability(error=error, bad_line_count=1, bad_lines=[
        {"line": line, "reason": f"file not read: {error}",
         "text": None if text is None else _text_prefix(text)}])


def _text_prefix(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text[:TEXT_PREFIX_CHARS]


def _message(error: Exception) -> str:
    """A JSON parser's message without its position (reported apart)."""
    return re.sub(r": line \d+ column \d+ \(char \d+\)$", "", str(error))


def _json_reason(error: Exception) -> str:
    """The reason a line does not parse, with the column of the damage."""
    column = getattr(error, "colno", None)
    return f"not valid JSON ({_message(error)}{f' at column {column}' if column else ''})"


def check_jsonl(payload: bytes) -> Readability:
    """Count the records of a JSON-lines payload (UTF-8) and describe the lines that do not
    parse. Lines are split on `\\n` and blank ones skipped, as DuckDB's reader does."""
    found = Readability()
    for number, line in enumerate(payload.split(b"\n"), 1):
        if not line.strip(b" \t\r"):
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            found.bad_line_count += 1
            if len(found.bad_lines) < REASONS_KEPT:
                found.bad_lines.append({"line": number, "reason": _json_reason(exc),
                                        "text": _text_prefix(line)})
            continue
        found.record_count += 1
    if found.bad_line_count and not found.record_count:
        first = found.bad_lines[0]
        return _rejected(f"none of its {found.bad_line_count} lines can be read (line "
                         f"{first['line']}: {first['reason']})", first["line"], first["text"])
    return found


def check_json(payload: bytes, list_key: str | None) -> Readability:
    """Where the items of a `.json` payload (UTF-8) are and how many there are: a list, an
    object holding the API's list under `list_key`, or one record (`records_path` "$")."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return _salvage(payload.decode("utf-8"), list_key, exc)
    if isinstance(doc, list):
        return Readability(None, len(doc))
    if not isinstance(doc, dict):
        return _rejected(f"holds a single JSON {type(doc).__name__}, not records", 1, payload)
    if list_key and isinstance(doc.get(list_key), list):
        return Readability(list_key, len(doc[list_key]))
    return Readability("$", 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _list_start(text: str, list_key: str | None) -> tuple[int, str, str | None]:
    """Position just inside the record list, the closing that ends a cut document there, and
    the records path. Raises ValueError when the damage comes before the list."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if text.startswith("[", pos):
        return pos + 1, "]", None
    if not (text.startswith("{", pos) and list_key):
        raise ValueError("no record list before the damage")
    pos += 1
    while True:  # the members before the list, each parsed whole
        pos = _skip_space(text, pos)
        key, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if not text.startswith(":", pos):
            raise ValueError("expected ':'")
        pos = _skip_space(text, pos + 1)
        if key == list_key and text.startswith("[", pos):
            return pos + 1, "]}", list_key
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if not text.startswith(",", pos):
            raise ValueError(f"no `{list_key}` list before the damage")
        pos += 1


def _whole_document_error(text: str, error: Exception) -> Readability:
    pos = getattr(error, "pos", 0)
    line = text.count("\n", 0, pos) + 1
    return _rejected(f"not valid JSON ({_message(error)} at line {line})", line, text[pos:])


def _salvage(text: str, list_key: str | None, error: Exception) -> Readability:
    """The items before the damage of a document that does not parse whole."""
    decoder = json.JSONDecoder()
    try:
        pos, closing, records_path = _list_start(text, list_key)
    except (ValueError, IndexError):
        return _whole_document_error(text, error)
    items, end, complete = 0, pos, False
    while True:
        pos = _skip_space(text, pos)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except ValueError:
            break
        items, end = items + 1, pos
        pos = _skip_space(text, pos)
        if text.startswith("]", pos):
            end, complete = pos + 1, True
            break
        if not text.startswith(",", pos):
            break
        pos += 1
    if not items:
        return _whole_document_error(text, error)
    if complete:
        closing = closing[1:]  # the list itself ended: only the enclosing object is cut
    damage = _skip_space(text, end)
    if text.startswith(",", damage):  # the damaged record starts after the separator
        damage = _skip_space(text, damage + 1)
    line = text.count("\n", 0, damage) + 1
    rest = len(text[damage:].encode())
    what = "after the record list" if complete else f"after record {items}"
    found = Readability(records_path, items, readable={"bytes": len(text[:end].encode()),
                                                       "closing": closing})
    reason = f"not valid JSON {what} ({_message(error)}): its last {rest} bytes cannot be read"
    found.bad_lines = [{"line": line, "reason": reason, "text": _text_prefix(text[damage:])}]
    found.bad_line_count = 1
    return found


def check_csv(payload: bytes) -> Readability:
    """Count the data lines of a CSV payload. A file that DuckDB's reader cannot take at all
    (binary, UTF-16: text with NUL bytes; no columns it can detect) is rejected here, as an
    unreadable JSON file is, rather than failing every later build of the raw table; rows it
    cannot read are found when the raw table is built, with DuckDB's own reason."""
    if b"\0" in payload:
        return _rejected("not a text CSV file (it holds NUL bytes: UTF-16 or binary); save it "
                         "as UTF-8 text", None, None)
    try:
        with duckdb.connect() as con:  # read as the raw build reads it (ingestion/raw.py)
            con.read_csv(io.BytesIO(payload), all_varchar=True, header=True,
                         store_rejects=True).limit(1).fetchall()
    except duckdb.Error as error:
        return _rejected(f"not a readable CSV file ({str(error).splitlines()[0]})", 1, payload)
    lines = [line for line in payload.split(b"\n") if line.strip(b" \t\r")]
    return Readability(None, max(len(lines) - 1, 0))


def check(fmt: str, payload: bytes, list_key: str | None = None) -> Readability:
    """Check a payload of format `json`, `jsonl` or `csv`, in any encoding."""
    text = as_utf8(payload, encoding_of(payload))
    if not text.strip(b" \t\r\n"):
        return Readability(None, 0)
    if fmt == "jsonl":
        return check_jsonl(text)
    if fmt == "json":
        return check_json(text, list_key)
    return check_csv(text)
