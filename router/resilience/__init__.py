"""Resilience: circuit breakers, latency tracking and team budgets."""
