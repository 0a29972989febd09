"""Entity specs (flattener + rules) per raw entity, keyed by (source, entity)."""

from __future__ import annotations

from quality.spec import EntitySpec
from quality.suites import kobo, matomo, moodle, zendesk

SPECS: dict[tuple[str, str], EntitySpec] = {
    (s.source, s.entity): s
    for module in (zendesk, matomo, moodle, kobo)
    for s in module.SPECS
}


def get_spec(source: str, entity: str) -> EntitySpec:
    """The spec of one raw entity (KeyError if there is none)."""
    return SPECS[(source, entity)]
