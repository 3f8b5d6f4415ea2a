"""What every JobStore adapter does to the fields of an update before it writes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..clock import iso
from ..ports import ENDED, JOB_TTL_SECONDS, Job

# every Job field but its identity and birth
SETTABLE = frozenset(f.name for f in dataclasses.fields(Job)) - {"job_id", "owner", "created_at"}


def stamped(fields: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The fields of JobStore.update as they are written: `updated_at` set, and when the
    update ends the job (completed, error, cancelled) `ended_at` and `ttl` (its status
    document lives JOB_TTL_SECONDS more) unless given. `now`: epoch seconds.

    Raises TypeError for a name that is not a settable Job field.
    """
    unknown = set(fields) - SETTABLE
    if unknown:
        raise TypeError(f"not job fields: {', '.join(sorted(unknown))}")
    written = {**fields, "updated_at": iso(now)}
    if written.get("status") in ENDED:
        written.setdefault("ended_at", now)
        written.setdefault("ttl", int(now + JOB_TTL_SECONDS))
    return written
