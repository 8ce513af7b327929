"""Benchmark scripts that reproduce the seed reports' tables (see docs/seed-tables.md)."""
