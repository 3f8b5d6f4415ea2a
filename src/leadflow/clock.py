"""UTC time as leadflow writes and reads it: ISO-8601 text ending in `Z`.

Every stored or answered timestamp comes from here, so they all sort as text and parse
back the same way. `epoch` values are seconds since 1970-01-01 UTC (float).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

Precision = Literal["seconds", "milliseconds"]


def utc_datetime() -> dt.datetime:
    """Now, as an aware datetime in UTC."""
    return dt.datetime.now(dt.UTC)


def utc_now(timespec: Precision = "milliseconds") -> str:
    """Now as ISO-8601 UTC text, e.g. `2026-11-30T01:02:03.456Z` (or to the second)."""
    return format_iso(utc_datetime(), timespec)


def iso(epoch: float, timespec: Precision = "milliseconds") -> str:
    """Epoch seconds as ISO-8601 UTC text, e.g. `2026-11-30T01:02:03.456Z`."""
    return format_iso(dt.datetime.fromtimestamp(epoch, dt.UTC), timespec)


def format_iso(moment: dt.datetime, timespec: Precision = "milliseconds") -> str:
    """An aware datetime as ISO-8601 UTC text ending in `Z`."""
    return moment.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(stamp: str) -> dt.datetime:
    """ISO-8601 text (with `Z` or an offset; none means UTC) as an aware UTC datetime.

    Raises ValueError when `stamp` is not ISO-8601.
    """
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def epoch_of(stamp: str) -> float:
    """ISO-8601 text as epoch seconds. Raises ValueError when it is not ISO-8601."""
    return parse_iso(stamp).timestamp()
