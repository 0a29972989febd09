import dagster as dg

from orchestration.resources import build_resources


@dg.definitions
def resources() -> dg.Definitions:
    """Resources shared by every asset, configured from the environment (DESIGN.md s.3)."""
    return dg.Definitions(resources=build_resources())
