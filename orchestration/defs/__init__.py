"""Every module here is loaded by `orchestration.definitions` (dg.load_from_defs_folder)."""
