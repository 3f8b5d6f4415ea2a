"""A file's bytes for the readers: a local path, or a binary stream (the blob store's
`open(key)`, which for S3 is a StreamingBody that cannot seek).

Readers go over a file more than once. The format is sniffed from its first bytes; the
encoding check reads the whole file (strict UTF-8 must hold for every byte before the
first record goes out, or the codec would change half-way); the CSV reader samples the
head for the delimiter and the header row before reading the records; an XLSX workbook is
a zip whose directory sits at its end. So:

- a path is opened afresh for each pass (as fast as it ever was: the CLI's path);
- a seekable stream (a local file, BytesIO) is read in place, rewound for each pass;
- a stream that cannot seek is copied once into a SpooledTemporaryFile, in memory up to
  SPOOL_MEMORY bytes and on local disk (the temp directory; /tmp on Lambda) past that,
  and that copy is read instead. The copy goes when the reader is closed (or collected).

The caller keeps ownership of a stream it passes in: it is never closed here.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, cast

SPOOL_MEMORY = 8 * 1024 * 1024  # a non-seekable stream up to this stays in memory
_COPY_CHUNK = 1 << 20


def is_seekable(stream: IO[bytes]) -> bool:
    """Whether `stream` can be rewound (streams without `seekable()` cannot)."""
    seekable = getattr(stream, "seekable", None)
    try:
        return bool(seekable()) if callable(seekable) else False
    except (OSError, ValueError):
        return False


class ByteSource:
    """The bytes of one file, readable from the start as often as a reader needs.

    `path` is set when the bytes lie in a local file (a reader may hand it to a library
    that reads paths faster than streams); `name` is how messages call the file.
    """

    def __init__(self, source: Path | IO[bytes], name: str | None = None) -> None:
        self._stream: IO[bytes] | None = None
        self._spool: IO[bytes] | None = None
        if isinstance(source, Path):
            self.path: Path | None = source
            self.name = name or source.name
            return
        self.path = None
        self.name = name or "the file"
        if is_seekable(source):
            self._stream = source
        else:
            # Not seekable (S3, a socket): spooled once, see the module docstring.
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
            shutil.copyfileobj(source, spool, _COPY_CHUNK)
            self._spool = self._stream = spool

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """The bytes from the start; a path's file is closed afterwards, a stream is not."""
        if self.path is not None:
            with self.path.open("rb") as handle:
                yield handle
            return
        assert self._stream is not None
        self._stream.seek(0)
        yield cast(BinaryIO, self._stream)

    def head(self, size: int) -> bytes:
        """Up to `size` first bytes."""
        with self.open() as raw:
            return raw.read(size)

    def size(self) -> int:
        """Bytes in the file."""
        if self.path is not None:
            return self.path.stat().st_size
        assert self._stream is not None
        return self._stream.seek(0, io.SEEK_END)

    def close(self) -> None:
        """Drop the spooled copy, if any (a caller's stream stays open)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            self._stream = None
