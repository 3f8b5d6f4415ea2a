"""Lead ids: UUIDv7 (RFC 9562), time-ordered so that new leads append to the id index
instead of landing at random pages of it, which keeps large imports fast."""

from __future__ import annotations

import os
import time


def new_lead_ids(count: int) -> list[str]:
    """`count` fresh UUIDv7 strings, increasing within one call."""
    if count == 0:
        return []
    millis = time.time_ns() // 1_000_000
    randomness = os.urandom(10 * count)
    ids = []
    for i in range(count):
        rand = int.from_bytes(randomness[10 * i : 10 * i + 10], "big")
        # 48-bit ms | version 7 | 12-bit sequence | variant 10 | 62 random bits
        seq = i & 0xFFF
        value = (millis + (i >> 12)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62
        value |= rand & ((1 << 62) - 1)
        h = f"{value:032x}"
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return ids
