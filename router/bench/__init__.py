"""Benchmarks that print figures: ``hybrid-router bench --suite NAME``."""
