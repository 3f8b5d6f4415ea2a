"""Readers take binary streams (issue 9 point 3): a stream that cannot seek (S3's
StreamingBody), a seekable one and a path give the same records, warnings and headers."""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from leadflow.readers import ReadOptions, RecordStream, UnreadableFile, open_records
from leadflow.readers.source import SPOOL_MEMORY


class OneWayStream(io.RawIOBase):
    """Reads forward only, in odd-sized chunks, as a network stream does."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 4099))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _xlsx(path: Path) -> bytes:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["exported by hand"])
    leads = book.create_sheet("Leads")
    leads.append(["First Name", "E-mail", "Phone"])
    leads.append(["Ann", "ann@one.io", 4155550107])
    leads.append(["Bo", "bo@two.io", None])
    book.save(path)
    return path.read_bytes()


FILES: dict[str, Any] = {
    "utf8-sep.csv": b"sep=;\nName;Email\nRoe, Jane;jane@example.com\n\n;\nAl;al@x.io;extra\n",
    "utf16.csv": codecs.BOM_UTF16_LE + "Prénom\tE-mail\nZoë\tz@x.io\n".encode("utf-16-le"),
    "cp1252.csv": "Name,Email\nJosé Núñez,j@x.es\n".encode("cp1252"),
    "list.json": json.dumps([{"email": "a@x.io", "tags": ["a"]}, {"email": "b@x.io"}]).encode(),
    "lines.ndjson": b'{"email": "a@x.io"}\nnot json\n{"email": "b@x.io"}\n',
    "book.xlsx": None,
}


def _read(stream: RecordStream) -> tuple[Any, ...]:
    with stream:
        records = [
            (i, r if isinstance(r, dict) else vars(r)) for b in stream.batches() for i, r in b
        ]
    return records, stream.warnings, stream.headers, stream.format, stream.encoding


CASES = [(name, 1 << 30) for name in sorted(FILES)] + [("book.xlsx", 0)]  # 0: openpyxl


@pytest.mark.parametrize(("name", "engine"), CASES)
def test_a_stream_reads_as_its_file_does(tmp_path: Path, name: str, engine: int) -> None:
    path = tmp_path / name
    data = FILES[name] if FILES[name] is not None else _xlsx(path)
    path.write_bytes(data)
    options = ReadOptions(calamine_max_bytes=engine)
    expected = _read(open_records(path, 2, options))
    assert expected[0], "the file has records"
    one_way = OneWayStream(data)
    assert _read(open_records(one_way, 2, options, name)) == expected
    assert not one_way.closed  # the caller's stream stays the caller's
    assert _read(open_records(io.BytesIO(data), 2, options, name)) == expected
    with path.open("rb") as handle:
        assert _read(open_records(handle, 2, options, name)) == expected


def test_a_large_stream_spills_to_disk_and_reads_whole(tmp_path: Path) -> None:
    rows = SPOOL_MEMORY // 40 + 1000
    data = "email,name\n" + "".join(f"p{n}@example.com,Person {n:08d}\n" for n in range(rows))
    stream = open_records(OneWayStream(data.encode()), 50_000, name="big.csv")
    with stream:
        count = sum(len(batch) for batch in stream.batches())
        assert stream.progress() == (len(data), len(data))
    assert count == rows


def test_a_stream_that_is_not_text_is_refused_by_its_name() -> None:
    with pytest.raises(UnreadableFile, match=r"^photo\.csv is a PNG image"):
        open_records(OneWayStream(b"\x89PNG\r\n\x1a\n" + bytes(200)), name="photo.csv")
