"""Tell a file's format from its first bytes, using the name only to break ties."""

from __future__ import annotations

import json
from enum import StrEnum


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    NDJSON = "ndjson"


def sniff_format(head: bytes, name: str = "") -> FileFormat:
    """XLSX is a zip; JSON starts with [ or {; NDJSON has one object per line."""
    if head.startswith(b"PK\x03\x04"):
        return FileFormat.XLSX
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return FileFormat.JSON
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0]
        try:
            json.loads(first_line)
        except ValueError:
            return FileFormat.JSON  # one object spread over several lines
        return FileFormat.NDJSON
    return FileFormat.CSV
