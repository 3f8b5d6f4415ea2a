"""Tell a text file's encoding, and refuse files that are not text.

In order: a byte-order mark (UTF-8, UTF-16 and UTF-32, little and big endian; Excel's
"Unicode Text" is UTF-16 LE with a BOM); the NUL pattern of UTF-16/UTF-32 without a BOM;
strict UTF-8 over the whole file; charset-normalizer on a sample; Windows-1252 with a
warning. The BOM is skipped, never read as content. Files with the signature of an image,
archive or document, or whose bytes are mostly control codes, are not text.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import BinaryIO

from .base import UnreadableFile
from .source import ByteSource

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls (or other Office 97) file"),
)
# Encodings a detector cannot tell from Windows-1252 on a short sample of Western text
# (it often answers cp1250 for French or Spanish, turning ñ into ń): cp1252 reads them.
_LATIN_FAMILY = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_3",
    "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
    "iso8859_16", "mac_roman", "mac_latin2", "cp850", "cp437", "cp858",
}  # fmt: skip
_CONTROL_SHARE = 0.03  # more control bytes than this in the sample: not text


@dataclass(frozen=True, slots=True)
class TextEncoding:
    codec: str  # Python codec of the bytes after the BOM
    bom: int  # bytes of byte-order mark to skip
    label: str  # for messages: "UTF-8", "UTF-16 LE", "Windows-1252"
    warning: str | None = None


def signature_reason(head: bytes) -> str | None:
    """What a file is when its first bytes say it is not text, or None."""
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    return None


def _nul_pattern(sample: bytes) -> tuple[str, str] | None:
    """UTF-16/32 without a BOM, told by where ASCII's NUL high bytes fall."""
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    quarter = len(sample) // 4
    zero = [sum(1 for b in sample[i::4] if b == 0) / quarter for i in range(4)]
    if min(zero[1], zero[2], zero[3]) > 0.7 and zero[0] < 0.3:
        return "utf-32-le", "UTF-32 LE"
    if min(zero[0], zero[1], zero[2]) > 0.7 and zero[3] < 0.3:
        return "utf-32-be", "UTF-32 BE"
    odd, even = (zero[1] + zero[3]) / 2, (zero[0] + zero[2]) / 2
    if odd > 0.7 and even < 0.3:
        return "utf-16-le", "UTF-16 LE"
    if even > 0.7 and odd < 0.3:
        return "utf-16-be", "UTF-16 BE"
    return None


def _decodes(source: ByteSource, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with source.open() as f:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _control_share(sample: bytes) -> float:
    controls = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D))
    return controls / max(1, len(sample))


def _detected(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    codec = codecs.lookup(best.encoding).name.replace("-", "_")
    return None if codec in _LATIN_FAMILY or codec.startswith(("utf", "ascii")) else codec


def detect_encoding(source: ByteSource) -> TextEncoding:
    """The encoding to read `source` with; UnreadableFile when it is not text.

    Strict UTF-8 is checked over the whole file (a second pass over it: see
    readers/source.py for how a stream that cannot seek is read twice)."""
    name = source.name
    head = source.head(_SAMPLE)
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return TextEncoding(codec, len(bom), label)
    what = signature_reason(head)
    if what is not None:
        raise UnreadableFile(f"{name} is {what}, not a CSV, XLSX, JSON or NDJSON file")
    pattern = _nul_pattern(head[:4096])
    if pattern is not None:
        return TextEncoding(pattern[0], 0, pattern[1])
    if _decodes(source, "utf-8"):
        return TextEncoding("utf-8", 0, "UTF-8")
    if _control_share(head.replace(b"\x00", b"\x01")) > _CONTROL_SHARE:
        raise UnreadableFile(f"{name} is not a text file (its bytes are not text in any encoding)")
    detected = _detected(head)
    if detected is not None and _decodes(source, detected):
        label = codecs.lookup(detected).name
        return TextEncoding(detected, 0, label, _not_utf8(name, f"{label} (detected)"))
    if _decodes(source, "cp1252"):
        return TextEncoding("cp1252", 0, "Windows-1252", _not_utf8(name, "Windows-1252"))
    return TextEncoding("latin-1", 0, "Latin-1", _not_utf8(name, "Latin-1"))


def _not_utf8(name: str, label: str) -> str:
    return (
        f"{name} is not valid UTF-8; it was read as {label}. "
        "Save it as UTF-8 to be sure accented letters come through."
    )


def open_text(raw: BinaryIO, encoding: TextEncoding) -> io.TextIOWrapper:
    """`raw` (positioned at its start) as text, past the BOM; lines untranslated."""
    raw.seek(encoding.bom)
    # strict for UTF-8 (checked whole already); a cut-off UTF-16 tail becomes U+FFFD
    errors = "strict" if encoding.codec == "utf-8" else "replace"
    return io.TextIOWrapper(raw, encoding=encoding.codec, errors=errors, newline="")


class Utf8Bytes(io.RawIOBase):
    """A text stream re-encoded as UTF-8 bytes (for ijson), NUL characters dropped."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._text.read(_CHUNK // 4)
            if not chunk:
                return 0
            self._pending = chunk.replace("\x00", "").encode("utf-8", "replace")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
