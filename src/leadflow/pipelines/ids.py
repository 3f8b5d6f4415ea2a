"""Lead ids: UUIDv7 (RFC 9562), time-ordered so that new leads append to the id index
instead of landing at random pages of it, which keeps large imports fast."""

from __future__ import annotations

import os
import time


def new_lead_ids(count: int) -> list[str]:
    """`count` fresh UUIDv7 strings, increasing within one call.

    Layout: 48-bit Unix ms | version 7 | 12-bit counter | variant 0b10 | 62 random bits.
    """
    if count == 0:
        return []
    millis = time.time_ns() // 1_000_000
    random_hex = os.urandom(8 * count).hex()
    ids = []
    for i in range(count):
        stamp = f"{millis + (i >> 12):012x}"
        tail = random_hex[16 * i : 16 * i + 16]
        # variant bits: the first hex digit of the last groups is 8, 9, a or b
        variant = "89ab"[int(tail[0], 16) & 3]
        ids.append(f"{stamp[:8]}-{stamp[8:]}-7{i & 0xFFF:03x}-{variant}{tail[1:4]}-{tail[4:16]}")
    return ids
