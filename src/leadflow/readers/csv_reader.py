"""CSV and delimited text: any encoding `encoding.detect_encoding` tells, Excel's `sep=`
hint obeyed, the delimiter otherwise sniffed among , ; tab |, the header row found
(`header_row`), quoted newlines, and the input limits applied row by row."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..domain.limits import columns_over, line_too_long, preview, row_limit_reason
from .base import InvalidLine, ReadOptions, RecordStream, UnreadableFile, unique_headers
from .encoding import detect_encoding, open_text
from .header_row import SCAN_ROWS, find_header, skipped_warning
from .source import ByteSource

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 64 * 1024
_SEP_HINT = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)
_OVERSIZED = "\x00\n"  # stands for a line over the limit: NULs are never content


def sniff_delimiter(lines: list[str]) -> str:
    """The candidate whose most common row width (of 2 or more) is the most common."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines[:50], delimiter=delimiter) if row]
        except csv.Error:
            continue
        counts = Counter(w for w in widths if w >= 2)
        if not counts:
            continue
        width, frequency = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (frequency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def sep_hint(first_line: str) -> str | None:
    """The delimiter named by Excel's `sep=;` first line, or None."""
    match = _SEP_HINT.match(first_line.rstrip("\r\n"))
    return match.group(1) if match else None


class _Lines:
    """Lines of a text stream with NULs dropped; a line over `limit` characters is
    skipped without being held whole, and stands as `_OVERSIZED` (counted)."""

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self.text = text
        self.limit = limit
        self.oversized = 0
        self.last_size = 0

    def __iter__(self) -> Iterator[str]:
        readline, limit = self.text.readline, self.limit
        while line := readline(limit + 1):
            if len(line) > limit and not line.endswith(("\n", "\r")):
                size = len(line)
                while (more := readline(1 << 20)) and not more.endswith(("\n", "\r")):
                    size += len(more)
                self.oversized += 1
                self.last_size = size + len(more)
                yield _OVERSIZED
                continue
            if "\x00" in line:
                line = line.replace("\x00", "")
            yield line


class CsvRecords(RecordStream):
    format = "csv"
    text_only = True

    def __init__(
        self, source: ByteSource, batch_rows: int, options: ReadOptions | None = None
    ) -> None:
        super().__init__(batch_rows, source.name)
        self.source = source
        self.options = options or ReadOptions()
        self.size = source.size()
        self.text_encoding = detect_encoding(source)
        self.encoding = self.text_encoding.codec
        if self.text_encoding.warning:
            self.warnings.append(self.text_encoding.warning)
        # a quoted field over the line limit is refused by the csv module itself
        csv.field_size_limit(max(self.options.limits.max_line_bytes, 1024))
        lines = self._sample_lines()
        self.hint = sep_hint(lines[0]) if lines else None
        body = lines[1:] if self.hint else lines
        self.delimiter = self.hint or sniff_delimiter(body)
        self.header_line = self.options.header_row or self._find_header_line(lines)
        self._raw: BinaryIO | None = None

    def _sample_lines(self) -> list[str]:
        with self.source.open() as raw:
            text = open_text(raw, self.text_encoding)
            try:
                sample = text.read(_SAMPLE_CHARS).replace("\x00", "")
            except UnicodeDecodeError:
                sample = ""
            finally:
                text.detach()
        lines = sample.splitlines(keepends=True)
        if len(lines) > 1 and not sample.endswith(("\n", "\r")):
            lines = lines[:-1]  # the sample may cut the last line short
        return lines

    def _find_header_line(self, lines: list[str]) -> int:
        """The 1-based line the header starts on, found among the first rows."""
        reader = csv.reader(lines, delimiter=self.delimiter)
        starts: list[int] = []
        rows: list[list[str]] = []
        line = 0
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if self.hint and start == 1:
                    continue
                starts.append(start)
                rows.append(cells)
                if len(rows) >= SCAN_ROWS:
                    break
        except csv.Error:
            pass
        found = find_header(rows)
        return starts[found] if found is not None else 1

    def progress(self) -> tuple[int, int | None]:
        done = self._raw.tell() if self._raw is not None and not self._raw.closed else self.size
        return min(done, self.size), self.size

    def records(self) -> Iterator[dict[str, str] | InvalidLine]:
        limits = self.options.limits
        max_chars = limits.max_field_chars
        delimiter = self.delimiter
        with self.source.open() as raw:
            self._raw = raw
            text = open_text(raw, self.text_encoding)
            lines = _Lines(text, limits.max_line_bytes)
            reader = csv.reader(lines, delimiter=delimiter)
            try:
                headers = self._read_header(reader, lines)
                if headers is None:
                    return
                width = len(headers)
                # the hot loop of large imports: one pass, no nested generator
                for cells in reader:
                    joined = "".join(cells)
                    if "\x00" in joined:  # NULs are dropped from lines: a line over the limit
                        yield InvalidLine(
                            preview(delimiter.join(cells).replace("\x00", "")),
                            line_too_long(lines.last_size, limits),
                        )
                        continue
                    if not joined.strip():  # blank or whitespace-only line
                        continue
                    if len(joined) > max_chars or len(cells) > width:
                        reason = row_limit_reason(cells, limits)
                        if reason is not None:
                            yield InvalidLine(preview(delimiter.join(cells)), reason)
                            continue
                    if len(cells) == width:
                        yield dict(zip(headers, cells))  # noqa: B905 - widths are equal
                        continue
                    record = dict(zip(headers, cells, strict=False))
                    for extra in range(width, len(cells)):
                        record[f"column_{extra + 1}"] = cells[extra]
                    yield record
            except csv.Error as exc:
                raise UnreadableFile(
                    f"{self.name}: malformed CSV near line {reader.line_num}: {exc}"
                ) from None
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"{self.name}: cannot be read as text: {exc}") from None
            finally:
                text.detach()

    def _read_header(self, reader: Any, lines: _Lines) -> list[str] | None:
        """Read up to and including the header row; its names (None: no header at all)."""
        skipped: list[tuple[int, str]] = []
        line = 0
        for cells in reader:
            start, line = line + 1, reader.line_num
            blank = not "".join(cells).strip()
            if start < self.header_line or blank:
                if not blank and not (self.hint and start == 1):
                    skipped.append((start, self.delimiter.join(cells)))
                continue
            if lines.oversized:
                raise UnreadableFile(
                    f"{self.name}: the header row is too long: "
                    + line_too_long(lines.last_size, self.options.limits)
                )
            if len(cells) > self.options.limits.max_columns:
                raise UnreadableFile(
                    f"{self.name}: " + columns_over(len(cells), self.options.limits)
                )
            if skipped:
                self.warnings.append(skipped_warning(self.name, skipped, start))
            headers = unique_headers(cells)
            self.headers = headers
            return headers
        return None
