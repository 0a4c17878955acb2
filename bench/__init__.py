"""Benchmarks of ikm-sync; each writes its figures to BENCHMARKS.md."""
