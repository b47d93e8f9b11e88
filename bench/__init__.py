"""Benchmarks that print their figures. Run with ``python -m bench.<name>``; never tests."""
