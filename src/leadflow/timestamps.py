"""The one timestamp format leadflow writes: ISO-8601 UTC with milliseconds."""

from __future__ import annotations

import time


def iso(epoch: float) -> str:
    """Epoch seconds as 2026-01-31T12:00:00.000Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"
