"""Enrichment providers and the registry (factory) that picks them by name."""
