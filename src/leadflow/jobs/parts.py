"""Part blobs: the records of a group of queued batches, written once by the split (or by
start_enrichment) and read by the workers that run those batches.

Why pointers: a queue message must stay small (SQS takes at most 256 KB) whatever the
file, and 100 rows of a 1,990-column sheet are megabytes. So a message carries a pointer,
`{"kind", "jobId", "batchNo", "blobKey", "rows": [first, last]}`, never a record.

Why one part per group of batches, not one per batch: the split writes one blob per
SEND_GROUP batches (a 100k-row upload makes 20 blobs, not 1,000; each is an fsync'd file
locally, a PUT on S3), and a worker receives a group's messages mostly together (they were
sent together), so it reads each part once and keeps the last few it read (PartCache). A
part is closed early once it holds PART_MAX_BYTES, so a wide file's parts stay a few
megabytes; a message names the rows it covers, so a worker never parses the other rows.

Format: JSON lines. The first line is the part's header, `{"rows": [first, last], ...}`
plus what every batch of the part shares (for uploads: "format", "textOnly" and the
file's "headers", kept here once rather than in each message); then one line per record,
rows first..last in order (row numbers are the reader's record indexes, contiguous). A
line that is not a record (an InvalidLine) travels as `{"$invalid": {"text", "error"}}`
(not in a "plain" part, whose lines are JSON values exactly as given: contacts).

Parts live under `jobs/<jobId>/parts/` and stay until the sweeper forgets the job (after
its TTL): a batch redriven from the DLQ after its job completed still finds its records.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from ..ports import BlobStore
from ..readers.base import InvalidLine

SEND_GROUP = 50  # batches per part (and per send_many)
PART_MAX_BYTES = 8 * 1024 * 1024  # a part is closed once its records take this much
_INVALID = "$invalid"


def job_prefix(job_id: str) -> str:
    """Where a job's working blobs lie (the sweeper deletes the prefix)."""
    return f"jobs/{job_id}/"


def part_key(job_id: str, first_row: int) -> str:
    return f"{job_prefix(job_id)}parts/{first_row:09d}.jsonl"


def record_line(record: Any, flat: bool = True) -> bytes:
    """One record as a part line, an InvalidLine kept as such. `flat`: a dict's values
    that are not JSON scalars become text, as the batch pipeline reads them."""
    if isinstance(record, InvalidLine):
        record = {_INVALID: {"text": record.text, "error": record.error}}
    elif (
        flat
        and isinstance(record, dict)
        and not all(isinstance(v, str | int | float | bool | None) for v in record.values())
    ):
        record = {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in record.items()
        }
    return json.dumps(record).encode() + b"\n"


def _restored(record: Any) -> Any:
    if isinstance(record, dict) and len(record) == 1 and _INVALID in record:
        return InvalidLine(record[_INVALID]["text"], record[_INVALID]["error"])
    return record


def write_part(
    blobs: BlobStore, key: str, first: int, lines: Sequence[bytes], meta: Mapping[str, Any]
) -> None:
    """Store a part: its header (rows first..first+len(lines)-1, plus `meta`), then the
    record lines made by `record_line`."""
    header = {"rows": [first, first + len(lines) - 1], **meta}
    blobs.put_stream(key, [json.dumps(header).encode() + b"\n", b"".join(lines)])


def pointer(
    kind: str, job_id: str, key: str, first: int, last: int, **extra: Any
) -> dict[str, Any]:
    """The queue message of rows first..last of a part (small: no record in it)."""
    return {
        "kind": kind,
        "jobId": job_id,
        "batchNo": first,
        "blobKey": key,
        "rows": [first, last],
        **extra,
    }


class MissingPart(LookupError):
    """A message points at rows its part does not hold (or at no part): the message is
    broken, and goes to the DLQ after its tries."""


class PartCache:
    """Reads the rows a message points at, keeping the last `keep` parts' lines so that
    the batches of one part cost one read of it."""

    def __init__(self, blobs: BlobStore, keep: int = 2) -> None:
        self.blobs = blobs
        self.keep = keep
        self._parts: OrderedDict[str, tuple[dict[str, Any], list[bytes]]] = OrderedDict()

    def _part(self, key: str) -> tuple[dict[str, Any], list[bytes]]:
        part = self._parts.get(key)
        if part is not None:
            self._parts.move_to_end(key)
            return part
        try:
            with self.blobs.open(key) as stream:
                lines = stream.read().split(b"\n")
        except FileNotFoundError:
            raise MissingPart(f"the records of this batch ({key}) are gone") from None
        part = (json.loads(lines[0]), lines[1:])
        self._parts[key] = part
        while len(self._parts) > self.keep:
            self._parts.popitem(last=False)
        return part

    def batch(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
        """(the part's header, [(row, record) ...]) for the message's rows."""
        first, last = (int(n) for n in body["rows"])
        meta, lines = self._part(str(body["blobKey"]))
        start = first - int(meta["rows"][0])
        if start < 0 or last > int(meta["rows"][1]) or last < first:
            raise MissingPart(f"rows {first}-{last} are not in {body['blobKey']}")
        picked = [json.loads(line) for line in lines[start : start + last - first + 1]]
        if meta.get("plain"):  # written with flat=False: values exactly as given
            return meta, list(enumerate(picked, start=first))
        return meta, [(first + i, _restored(record)) for i, record in enumerate(picked)]
