"""Entity specs (flattener + rules) per raw entity, keyed by (source, entity): each declared
source's suite is the module `quality/suites/<source>.py` and its `SPECS`."""

from __future__ import annotations

import importlib

from ingestion.sources import SOURCES
from quality.spec import EntitySpec

SPECS: dict[tuple[str, str], EntitySpec] = {
    (s.source, s.entity): s
    for declaration in SOURCES.values()
    for s in importlib.import_module(declaration.suite_module).SPECS
}


def get_spec(source: str, entity: str) -> EntitySpec:
    """The spec of one raw entity (KeyError if there is none)."""
    return SPECS[(source, entity)]
