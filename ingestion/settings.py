"""Settings from environment variables (DESIGN.md section 3); a `.env` file is read if present."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

DEMO_PII_SALT = "saypro-demo-salt-not-secret"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable and the fix."""


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


SOURCE_VARIABLES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "zendesk": (
        ("ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
        frozenset({"ZENDESK_API_TOKEN"}),
    ),
    "matomo": (("MATOMO_BASE_URL", "MATOMO_SITE_ID", "MATOMO_TOKEN"), frozenset({"MATOMO_TOKEN"})),
    "moodle": (("MOODLE_BASE_URL", "MOODLE_TOKEN"), frozenset({"MOODLE_TOKEN"})),
    "kobo": (
        (
            "KOBO_BASE_URL",
            "KOBO_TOKEN",
            "KOBO_REGISTRATION_ASSET_UID",
            "KOBO_FEEDBACK_ASSET_UID",
        ),
        frozenset({"KOBO_TOKEN"}),
    ),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    timezone: str
    start_date: date
    pii_salt: str | None
    drop_dir: Path | None
    env: dict[str, str]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        if environ is None:
            load_dotenv(override=False)
            environ = dict(os.environ)
        data_dir = Path(environ.get("SAYPRO_DATA_DIR") or "./data").resolve()
        warehouse = Path(environ.get("SAYPRO_WAREHOUSE") or data_dir / "warehouse.duckdb")
        raw_start = environ.get("SAYPRO_START_DATE") or "2025-01-01"
        try:
            start = date.fromisoformat(raw_start)
        except ValueError as exc:
            raise SettingsError(
                f"SAYPRO_START_DATE={raw_start!r} is not a date: use YYYY-MM-DD."
            ) from exc
        drop = environ.get("SAYPRO_DROP_DIR")
        return cls(
            data_dir=data_dir,
            warehouse=warehouse.resolve(),
            timezone=environ.get("SAYPRO_TIMEZONE") or "Africa/Johannesburg",
            start_date=start,
            pii_salt=environ.get("SAYPRO_PII_SALT") or None,
            drop_dir=Path(drop).resolve() if drop else None,
            env=environ,
        )

    def source(self, name: str) -> SourceCredentials | None:
        """API credentials of a source, or None when its variables are not all set."""
        keys, secrets = SOURCE_VARIABLES[name]
        values = {k: self.env.get(k, "") for k in keys}
        if not all(values.values()):
            return None
        return SourceCredentials(name, values, secrets)

    def missing_variables(self, name: str) -> list[str]:
        keys, _ = SOURCE_VARIABLES[name]
        return [k for k in keys if not self.env.get(k)]

    def drop_folder(self, name: str) -> Path | None:
        """`<SAYPRO_DROP_DIR>/<source>` when it exists."""
        if self.drop_dir is None:
            return None
        folder = self.drop_dir / name
        return folder if folder.is_dir() else None

    def require_pii_salt(self, *, demo: bool = False) -> str:
        """The hashing salt; outside the demo a missing salt is an error."""
        if self.pii_salt:
            return self.pii_salt
        if demo:
            return DEMO_PII_SALT
        raise SettingsError(
            "SAYPRO_PII_SALT is not set: e-mail addresses and phone numbers cannot be hashed. "
            "Set it to a long random secret (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`) and keep it stable across runs."
        )

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports" / "marts"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def quality_dir(self) -> Path:
        return self.data_dir / "quality"
