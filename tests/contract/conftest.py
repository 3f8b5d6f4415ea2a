"""Fixtures of the contract suites."""

from __future__ import annotations

# the lead aggregate's adapter sets (tests/contract/lead_adapter_sets.py)
from lead_adapter_sets import adapters  # noqa: F401

# the non-lead ports' adapter sets (tests/contract/port_adapters.py)
from port_adapters import adapter_set  # noqa: F401
