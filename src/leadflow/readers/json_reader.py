"""JSON (a list of records, or one record) and NDJSON (one record per line), streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from ..domain.json_values import unstorable_reason
from .base import RecordStream, UnreadableFile
from .sniff import FileFormat


class InvalidLine:
    """An NDJSON line that is not JSON: kept so it reaches the error file."""

    def __init__(self, text: str, error: str) -> None:
        self.text = text
        self.error = error


def _storable(record: Any) -> Any:
    """The record, or an InvalidLine saying why it cannot be kept."""
    reason = unstorable_reason(record)
    if reason is None:
        return record
    return InvalidLine(json.dumps(record, default=str)[:10_000], f"the record {reason}")


class JsonRecords(RecordStream):
    def __init__(self, path: Path, batch_rows: int, fmt: FileFormat) -> None:
        super().__init__(batch_rows)
        self.path = path
        self.format = fmt.value
        self.encoding = "utf-8"
        self.size = path.stat().st_size
        self._raw: BinaryIO | None = None

    def progress(self) -> tuple[int, int | None]:
        done = self._raw.tell() if self._raw is not None and not self._raw.closed else self.size
        return min(done, self.size), self.size

    def _records(self, raw: BinaryIO) -> Iterator[Any]:
        if self.format == FileFormat.NDJSON:
            for line in raw:
                text = line.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                try:
                    yield _storable(json.loads(text))
                except RecursionError:
                    yield InvalidLine(text[:10_000], "the record is nested too deeply")
                except ValueError as exc:
                    yield InvalidLine(text, f"not valid JSON: {exc}")
            return
        head = raw.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        raw.seek(0)
        if raw.read(3) != b"\xef\xbb\xbf":
            raw.seek(0)
        prefix = "item" if head.startswith(b"[") else ""
        try:
            for record in ijson.items(raw, prefix, use_float=True):
                yield _storable(record)
        except ijson.JSONError as exc:
            raise UnreadableFile(f"{self.path.name} is not valid JSON: {exc}") from None

    def records(self) -> Iterator[Any]:
        with self.path.open("rb") as raw:
            self._raw = raw
            yield from self._records(raw)
