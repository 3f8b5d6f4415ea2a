"""Fixtures of the contract suites."""

from __future__ import annotations

# the non-lead ports' adapter sets (tests/contract/port_adapters.py)
from port_adapters import adapter_set  # noqa: F401
