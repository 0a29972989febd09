"""Scale benchmarks: `make bench` / `python -m benchmarks.run` (prints measured figures)."""
