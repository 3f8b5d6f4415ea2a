"""The one UTC-time helper: the text it writes sorts, parses back, and ends in Z."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.clock import epoch_of, format_iso, iso, parse_iso, utc_datetime, utc_now


def test_iso_writes_milliseconds_or_seconds_in_utc() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    assert iso(1_700_000_000.25, "seconds") == "2023-11-14T22:13:20Z"


def test_now_is_utc_text_ending_in_z() -> None:
    before = utc_datetime()
    stamp = utc_now()
    assert stamp.endswith("Z") and len(stamp) == len("2026-11-30T01:02:03.456Z")
    assert before - dt.timedelta(milliseconds=1) <= parse_iso(stamp) <= utc_datetime()
    assert len(utc_now("seconds")) == len("2026-11-30T01:02:03Z")


def test_parse_iso_takes_z_offsets_and_naive_text_as_utc() -> None:
    utc = dt.datetime(2026, 11, 30, 1, 2, 3, tzinfo=dt.UTC)
    assert parse_iso("2026-11-30T01:02:03Z") == utc
    assert parse_iso("2026-11-30T02:02:03+01:00") == utc
    assert parse_iso("2026-11-30T01:02:03") == utc
    assert format_iso(
        dt.datetime(2026, 11, 30, 2, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    ) == ("2026-11-30T01:02:03.000Z")
    with pytest.raises(ValueError):
        parse_iso("yesterday")


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_millisecond_stamps_round_trip_and_sort_as_text(millis: int) -> None:
    stamp = iso(millis / 1000)
    assert round(epoch_of(stamp) * 1000) == millis
    assert (stamp < iso((millis + 1) / 1000)) is True
