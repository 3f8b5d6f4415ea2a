"""Tell a file's format from its first bytes, using the name only to break ties."""

from __future__ import annotations

import codecs
import json
from enum import StrEnum

_TEXT_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    NDJSON = "ndjson"


def _head_text(head: bytes) -> str:
    """The first bytes as text for sniffing: past a BOM, UTF-16/32 decoded, NULs dropped."""
    for bom, codec in _TEXT_BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    return head.decode("utf-8", errors="ignore").replace("\x00", "")


def sniff_format(head: bytes, name: str = "") -> FileFormat:
    """XLSX is a zip; JSON starts with [ or {; NDJSON has one object per line."""
    if head.startswith(b"PK\x03\x04"):
        return FileFormat.XLSX
    text = _head_text(head).lstrip(" \t\r\n")
    if text.startswith("["):
        return FileFormat.JSON
    if text.startswith("{"):
        first_line = text.split("\n", 1)[0]
        try:
            json.loads(first_line)
        except ValueError:
            return FileFormat.JSON  # one object spread over several lines
        return FileFormat.NDJSON
    return FileFormat.CSV
