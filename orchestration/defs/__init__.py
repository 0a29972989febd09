"""Every module here is loaded by `orchestration.definitions` (dg.load_defs)."""
