"""Outbox entries for leads: one per lead and file, keyed so that retries, restarts and a
file processed twice never make a second entry (the Outbox port is in ports.py, its
adapters in adapters/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def lead_entries(leads: Sequence[Mapping[str, Any]], import_id: str) -> dict[str, dict[str, Any]]:
    """Outbox entries for the leads of one file, keyed by file and lead."""
    return {f"{import_id}:{lead['leadId']}": dict(lead) for lead in leads}
