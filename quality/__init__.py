"""Data quality for raw batches: GX suites, row rules, quarantine, history and report."""
