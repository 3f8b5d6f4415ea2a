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
    ids: list[str] = []
    append = ids.append
    # the stamp moves on every 4,096 ids (the counter's range): formatted once per block
    for block in range(0, count, 4096):
        stamp = f"{millis + (block >> 12):012x}"
        head = f"{stamp[:8]}-{stamp[8:]}-7"
        for i in range(block, min(block + 4096, count)):
            tail = random_hex[16 * i : 16 * i + 16]
            append(f"{head}{i & 0xFFF:03x}-{_VARIANT[tail[0]]}{tail[1:4]}-{tail[4:]}")
    return ids


# a random hex digit -> the variant digit with the same two low bits (8, 9, a or b)
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
