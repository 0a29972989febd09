"""The contract between sources, the landing runner and the rest (docs/ARCHITECTURE.md,
"Sources"): a source's declaration, what its connector may read (`SourceContext`), the pages
it yields, and the figures of a pull. Connectors import this module, never the runner."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ingestion.http import HttpClient


@dataclass(frozen=True)
class SourceCredentials:
    """API settings of one source. `secrets` holds values that must never be logged."""

    name: str
    values: dict[str, str]
    secrets: frozenset[str] = field(default_factory=frozenset)

    def get(self, key: str) -> str:
        return self.values[key]

    def __repr__(self) -> str:  # never print secrets
        shown = {k: ("***" if k in self.secrets else v) for k, v in self.values.items()}
        return f"SourceCredentials({self.name!r}, {shown})"


@dataclass(frozen=True)
class Page:
    """One payload to land, exactly as received, with what its landing metadata records.

    `cursor` is the entity's cursor once this page has landed (None: unchanged); the runner
    saves it only after the page is durably landed."""

    entity: str
    body: bytes
    endpoint: str
    params: dict[str, Any]
    records_path: str | None
    record_count: int
    window: dict[str, str] | None = None
    fmt: str = "json"
    extra: dict[str, Any] | None = None
    record_extras: list[dict[str, Any]] | None = None
    status: str = "ok"
    error: str | None = None
    cursor: dict[str, Any] | None = None
    method: str = "GET"
    """The HTTP method of the request, as recorded in the landing metadata (Moodle and Matomo
    take their parameters, the token among them, in a POSTed form)."""


@dataclass(frozen=True)
class CallCount:
    """API calls behind an entity's pages, where several land as one page, and calls a
    connector did not need to make."""

    calls: int
    skipped_calls: int = 0


class LandedQuery(Protocol):
    def __call__(self, entity: str, select: str) -> list[tuple[Any, ...]]:
        """Rows of `select`, a query over `records (record_key, record)`: the latest landed
        version of each record of `entity` that validation has never set aside."""


@dataclass(frozen=True)
class SourceContext:
    """What a connector may read. It lands nothing and saves no cursor itself."""

    credentials: SourceCredentials
    client: HttpClient
    cursors: Mapping[str, dict[str, Any] | None]
    """Each entity's cursor before this pull (None: never pulled)."""
    start_date: date
    timezone: str
    now: datetime
    log: logging.Logger
    landed: LandedQuery

    @property
    def start_instant(self) -> datetime:
        """The first instant of history: midnight of `start_date` in `timezone`, the time zone
        that defines days (DESIGN.md section 3), not UTC midnight."""
        return datetime.combine(self.start_date, time(), ZoneInfo(self.timezone))


Pages = Generator[Page, None, Mapping[str, CallCount] | None]
"""What a connector returns: the pages of every entity of its source, in the order they are
to land, then, optionally, the call counts of entities whose pages each hold several calls."""

Connector = Callable[[SourceContext], Pages]


@dataclass(frozen=True)
class EntityDeclaration:
    """One raw entity: `key` is the SQL of its natural key over the JSON `record`;
    `list_key` the key holding the record list in an API response or a `.json` export
    object (None: the payload is the list, or one record)."""

    name: str
    key: str
    list_key: str | None = None


@dataclass(frozen=True)
class SourceDeclaration:
    """Everything the pipeline knows about a source, declared once (docs/ARCHITECTURE.md).

    Entity lists and keys, settings, Dagster resources and assets, and the quality suite
    lookup are derived from it."""

    name: str
    label: str
    """How reports name the source to managers, e.g. "Zendesk (helpdesk)"."""
    description: str
    entities: tuple[EntityDeclaration, ...]
    variables: tuple[str, ...]
    """Environment variables that configure the API; the source is pulled when all are set."""
    secrets: frozenset[str]
    base_url_variable: str
    credentials_hint: str
    """What to check when the API refuses the credentials (named in the error)."""
    connector: Connector

    def __post_init__(self) -> None:
        unknown = ({self.base_url_variable} | self.secrets) - set(self.variables)
        if unknown:
            raise ValueError(f"source {self.name}: {sorted(unknown)} not in its variables")

    @property
    def entity_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities)

    @property
    def suite_module(self) -> str:
        """The module holding the source's quality suite (its `SPECS`)."""
        return f"quality.suites.{self.name}"


@dataclass
class EntityPull:
    """Figures of one entity's pull (Dagster metadata, logs)."""

    load_id: str | None = None
    pages: int = 0
    records: int = 0
    retries: int = 0
    rejected_pages: int = 0
    unreadable_records: int | None = None  # set aside in raw._unreadable_records
    calls: int | None = None  # API calls, where several land as one page (Moodle completions)
    skipped_calls: int | None = None  # calls not needed: statuses that cannot have changed
    cursor_before: Any = None
    cursor_after: Any = None
    duration_s: float = 0.0


@dataclass
class PullResult:
    source: str
    mode: str  # api | drop | skipped
    entities: dict[str, EntityPull] = field(default_factory=dict)
    merge_seconds: float = 0.0  # merging the new loads into the raw tables
    lake_seconds: float = 0.0  # writing the changed months of the raw tables to the lake

    def metadata(self) -> dict[str, Any]:
        """Flat, JSON-serialisable values for Dagster asset metadata."""
        out: dict[str, Any] = {
            "mode": self.mode,
            "merge_seconds": round(self.merge_seconds, 3),
            "lake_seconds": round(self.lake_seconds, 3),
        }
        for entity, pull in self.entities.items():
            for key, value in vars(pull).items():
                if value is not None:
                    out[f"{entity}.{key}"] = (
                        value if isinstance(value, (int, float, str)) else str(value)
                    )
        return out
