"""The outcome of validating one raw entity: written by `quality.validate`, stored by
`quality.history`, rendered by `quality.report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EntityValidation:
    """Outcome of validating one raw entity's new loads."""

    source: str
    entity: str
    run_id: str
    rows_checked: int = 0
    rows_quarantined: int = 0
    rows_unreadable: int = 0
    """Lines or parts of landed files that cannot be read (raw._unreadable_records)."""
    rows_unkeyed: int = 0
    """Records without their key (raw._unkeyed_records)."""
    expectations: list[dict[str, Any]] = field(default_factory=list)
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    load_ids: list[str] = field(default_factory=list)
    passed: bool = True

    @property
    def key(self) -> str:
        return f"{self.source}__{self.entity}"

    @property
    def rows_set_aside(self) -> int:
        """Records of the new loads kept out of the raw table before validation."""
        return self.rows_unreadable + self.rows_unkeyed
