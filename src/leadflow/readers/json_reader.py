"""JSON (a list of records, or one record) and NDJSON (one record per line), streamed.

Records are built from ijson's low-level events with the input limits checked as they
arrive: a record nested deeper than LEADFLOW_MAX_NESTING_DEPTH is skipped by counting
brackets (constant memory, whatever the depth) and kept as an InvalidLine with its
reason, as is one holding a string over LEADFLOW_MAX_FIELD_CHARS or more keys than
LEADFLOW_MAX_COLUMNS. ijson's own object builder keeps the path of every open container,
so memory grew with the square of the depth: 100,000 brackets took gigabytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from ..domain.json_values import has_lone_surrogate
from ..domain.limits import (
    InputLimits,
    columns_over,
    line_too_long,
    nesting_over,
    preview,
    record_limit_reason,
    value_too_long,
)
from .base import InvalidLine, ReadOptions, RecordStream, UnreadableFile
from .encoding import Utf8Bytes, detect_encoding, open_text
from .sniff import FileFormat
from .source import ByteSource

__all__ = ["InvalidLine", "JsonRecords"]

_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")
_SURROGATE_REASON = (
    "the record holds a lone Unicode surrogate (\\ud800-\\udfff), which is not valid text"
)


def _storable(record: Any, limits: InputLimits) -> Any:
    """The record, or an InvalidLine saying why it cannot be kept."""
    reason = record_limit_reason(record, limits)
    if reason is None and has_lone_surrogate(record):
        reason = _SURROGATE_REASON
    if reason is None:
        return record
    return InvalidLine(preview(json.dumps(record, default=str)), reason)


def _add(container: Any, key: Any, value: Any) -> None:
    if isinstance(container, list):
        container.append(value)
    else:
        container[key] = value


class _TooBig(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def build_value(
    event: str, value: Any, events: Iterator[tuple[str, Any]], limits: InputLimits
) -> Any:
    """One JSON value from its first event and the events after it, limits checked on the way.

    A value over a limit is read to its end without being kept: an InvalidLine.
    """
    if event not in _OPEN:
        if isinstance(value, str) and len(value) > limits.max_field_chars:
            return InvalidLine(preview(value), value_too_long(len(value), limits))
        return value
    root: Any = {} if event == "start_map" else []
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    try:
        for event, value in events:
            if event in _CLOSE:
                stack.pop()
                keys.pop()
                if not stack:
                    return _storable(root, limits)
            elif event == "map_key":
                keys[-1] = value
                if len(stack[-1]) >= limits.max_columns:
                    raise _TooBig(columns_over(len(stack[-1]) + 1, limits))
            elif event in _OPEN:
                if len(stack) >= limits.max_depth:
                    raise _TooBig(nesting_over(limits))
                child: Any = {} if event == "start_map" else []
                _add(stack[-1], keys[-1], child)
                stack.append(child)
                keys.append(None)
            else:
                if isinstance(value, str) and len(value) > limits.max_field_chars:
                    raise _TooBig(value_too_long(len(value), limits))
                _add(stack[-1], keys[-1], value)
    except _TooBig as exc:
        text = preview(json.dumps(root, default=str)[:2000])
        _skip(events, len(stack) + (1 if event in _OPEN else 0))
        return InvalidLine(text, exc.reason)
    raise UnreadableFile("the JSON ends inside a record")


def _skip(events: Iterator[tuple[str, Any]], depth: int) -> None:
    """Consume events until `depth` open containers have closed (keeps nothing)."""
    for event, _ in events:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


class JsonRecords(RecordStream):
    def __init__(
        self,
        source: ByteSource,
        batch_rows: int,
        fmt: FileFormat,
        options: ReadOptions | None = None,
    ) -> None:
        super().__init__(batch_rows, source.name)
        self.source = source
        self.format = fmt.value
        self.limits = (options or ReadOptions()).limits
        self.text_encoding = detect_encoding(source)
        self.encoding = self.text_encoding.codec
        if self.text_encoding.warning:
            self.warnings.append(self.text_encoding.warning)
        self.size = source.size()
        self._raw: BinaryIO | None = None

    def progress(self) -> tuple[int, int | None]:
        done = self._raw.tell() if self._raw is not None and not self._raw.closed else self.size
        return min(done, self.size), self.size

    def _utf8(self, raw: BinaryIO) -> BinaryIO:
        """The file's bytes as UTF-8, past any BOM."""
        if self.text_encoding.codec == "utf-8":
            raw.seek(self.text_encoding.bom)
            return raw
        # buffered: readline on a bare raw stream would read one byte at a time
        return io.BufferedReader(Utf8Bytes(open_text(raw, self.text_encoding)))

    def _lines(self, source: BinaryIO) -> Iterator[Any]:
        limit = self.limits.max_line_bytes
        while line := source.readline(limit + 1):
            if len(line) > limit and not line.endswith(b"\n"):
                size = len(line)
                while (more := source.readline(1 << 20)) and not more.endswith(b"\n"):
                    size += len(more)
                size += len(more)
                text = line[:1000].decode("utf-8", errors="replace")
                yield InvalidLine(preview(text), line_too_long(size, self.limits))
                continue
            text = line.decode("utf-8", errors="replace").replace("\x00", "").strip()
            if not text:
                continue
            try:
                yield _storable(json.loads(text), self.limits)
            except RecursionError:
                yield InvalidLine(preview(text), nesting_over(self.limits))
            except ValueError as exc:
                yield InvalidLine(preview(text), f"not valid JSON: {exc}")

    def _records(self, source: BinaryIO) -> Iterator[Any]:
        if self.format == FileFormat.NDJSON:
            yield from self._lines(source)
            return
        events = iter(ijson.basic_parse(source, use_float=True))
        try:
            first = next(events, None)
            if first is None:
                return
            if first[0] == "start_array":  # a list of records
                for event, value in events:
                    if event == "end_array":
                        break
                    yield build_value(event, value, events, self.limits)
            else:  # one record
                yield build_value(first[0], first[1], events, self.limits)
        except ijson.JSONError as exc:
            reason = " ".join(str(exc).split())  # ijson's message spans lines
            raise UnreadableFile(f"{self.name} is not valid JSON: {reason}") from None

    def records(self) -> Iterator[Any]:
        with self.source.open() as raw:
            self._raw = raw
            yield from self._records(self._utf8(raw))
