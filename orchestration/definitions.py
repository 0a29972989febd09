"""Entry point of the Dagster code location: everything under `orchestration/defs/`."""

import dagster as dg

from orchestration import defs as defs_package

defs = dg.load_defs(defs_package)
