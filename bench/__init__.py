"""Benchmarks: large synthetic companies, timed against a raw read of the same rows."""
