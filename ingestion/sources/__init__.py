"""The sources: each module of this package declares one, as `SOURCE` (docs/ARCHITECTURE.md,
"Sources"). Adding a module here adds the source everywhere: its raw tables, settings,
Dagster resource and assets, drop folder and quality suite are derived from the declaration."""

from __future__ import annotations

import importlib
import pkgutil

from ingestion.contract import SourceDeclaration


def _declarations() -> dict[str, SourceDeclaration]:
    found: dict[str, SourceDeclaration] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if module.startswith("_"):
            continue
        declaration = getattr(importlib.import_module(f"{__name__}.{module}"), "SOURCE", None)
        if not isinstance(declaration, SourceDeclaration) or declaration.name != module:
            raise TypeError(
                f"ingestion/sources/{module}.py must declare its source as "
                f"SOURCE = SourceDeclaration(name={module!r}, ...)"
            )
        found[module] = declaration
    return found


SOURCES: dict[str, SourceDeclaration] = _declarations()
"""Every declared source, by name (in name order)."""

ENTITIES: dict[tuple[str, str], str] = {
    (source.name, entity.name): entity.key
    for source in SOURCES.values()
    for entity in source.entities
}
"""Raw entities and the SQL expression of their natural key over the JSON `record`."""


def entities_of(source: str) -> tuple[str, ...]:
    """The raw entities of one source, in declaration order."""
    return SOURCES[source].entity_names
