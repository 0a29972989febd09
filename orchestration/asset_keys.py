"""Asset keys shared by several definition modules."""

import dagster as dg

QUARANTINE_KEY = dg.AssetKey(["quality", "quarantine"])


def raw_asset_key(source: str, entity: str) -> dg.AssetKey:
    """Key of the ingestion asset that owns table `raw.<source>__<entity>`."""
    return dg.AssetKey(["raw", f"{source}__{entity}"])
