"""CSV: UTF-8 with or without BOM, delimiter sniffed among , ; tab |, quoted newlines,
and a Windows-1252/Latin-1 fallback that is announced as a warning."""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from .base import RecordStream, UnreadableFile, unique_headers

DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when every byte decodes as UTF-8, else 'cp1252', else 'latin-1'."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the first lines into the most, and most even, columns."""
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


class CsvRecords(RecordStream):
    format = "csv"

    def __init__(self, path: Path, batch_rows: int) -> None:
        super().__init__(batch_rows)
        self.path = path
        self.size = path.stat().st_size
        self.encoding = detect_encoding(path)
        if self.encoding != "utf-8-sig":
            label = "Windows-1252 (Latin-1)" if self.encoding == "cp1252" else "Latin-1"
            self.warnings.append(
                f"{path.name} is not valid UTF-8; it was read as {label}. "
                "Save it as UTF-8 CSV to be sure accented letters come through."
            )
        with path.open("r", encoding=self.encoding, newline="") as f:
            self.delimiter = sniff_delimiter(f.read(64 * 1024))
        self._raw: io.BufferedReader | None = None

    def progress(self) -> tuple[int, int | None]:
        done = self._raw.tell() if self._raw is not None and not self._raw.closed else self.size
        return min(done, self.size), self.size

    def records(self) -> Iterator[dict[str, str]]:
        with self.path.open("rb") as raw:
            self._raw = raw
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter)
            try:
                header_cells = next(reader, None)
                while header_cells is not None and not any(c.strip() for c in header_cells):
                    header_cells = next(reader, None)
                if header_cells is None:
                    raise UnreadableFile(f"{self.path.name} is empty: no header row found")
                headers = unique_headers(header_cells)
                self.headers = headers
                width = len(headers)
                for cells in reader:
                    if not "".join(cells).strip():  # blank or whitespace-only line
                        continue
                    if len(cells) == width:
                        record = dict(zip(headers, cells, strict=True))
                    else:
                        record = dict(zip(headers, cells, strict=False))
                        for extra in range(width, len(cells)):
                            record[f"column_{extra + 1}"] = cells[extra]
                    yield record
            except csv.Error as exc:
                raise UnreadableFile(
                    f"{self.path.name}: malformed CSV near line {reader.line_num}: {exc}"
                ) from None
            finally:
                text.detach()
