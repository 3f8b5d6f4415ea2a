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

Format: JSON lines. The first line is the part's header, `{"rows": [first, last],
"batches": [the first row of each batch line], ...}` plus what every batch of the part
shares (for uploads: "format", "textOnly" and the file's "headers", kept here once rather
than in each message); then one line per batch, a JSON array of its records in row order
(row numbers are the reader's record indexes, contiguous). One line per batch, not per
record: the split serializes and a worker parses exactly one JSON document per batch, as
when the records travelled in the messages. A record that is not one (an InvalidLine)
travels as `{"$invalid": {"text", "error"}}` (not in a "plain" part, whose records are
JSON values exactly as given: contacts).

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


def _portable(record: Any) -> Any:
    """A record as JSON can carry it: an InvalidLine as a marker, a dict's values that are
    not JSON scalars as text (as the batch pipeline reads them)."""
    if isinstance(record, InvalidLine):
        return {_INVALID: {"text": record.text, "error": record.error}}
    if isinstance(record, dict):
        return {
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in record.items()
        }
    return record


def batch_line(records: Sequence[Any], text_only: bool = False, plain: bool = False) -> bytes:
    """One batch's records as a part line. `text_only`: the records are dicts of strings
    already (CSV, XLSX) and only InvalidLines need converting; `plain`: JSON values kept
    exactly as given."""
    if plain:
        return json.dumps(records).encode() + b"\n"
    if text_only:
        portable = [r if type(r) is dict else _portable(r) for r in records]
    else:
        portable = [_portable(r) for r in records]
    return json.dumps(portable).encode() + b"\n"


def _restored(record: Any) -> Any:
    if isinstance(record, dict) and len(record) == 1 and _INVALID in record:
        return InvalidLine(record[_INVALID]["text"], record[_INVALID]["error"])
    return record


def write_part(
    blobs: BlobStore,
    key: str,
    batches: Sequence[tuple[int, int]],
    lines: Sequence[bytes],
    meta: Mapping[str, Any],
) -> None:
    """Store a part: its header (the rows of `batches`, each (first, last), plus `meta`),
    then one line per batch made by `batch_line`."""
    header = {"rows": [batches[0][0], batches[-1][1]], "batches": [a for a, _ in batches], **meta}
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
        """(the part's header, [(row, record) ...]) for the message's rows.

        A message queued by a version before part blobs carries its records (and the
        file's format and headers) itself: it still runs, so nothing waiting in the
        queue or the DLQ across an upgrade is lost."""
        if "blobKey" not in body and isinstance(body.get("records"), list):
            first = int(body["batchNo"])
            legacy = {k: body[k] for k in ("format", "textOnly", "headers") if k in body}
            if body.get("kind") == "enrich":
                return {"plain": True}, list(enumerate(body["records"], start=first))
            return legacy, [(first + i, _restored(r)) for i, r in enumerate(body["records"])]
        first, last = (int(n) for n in body["rows"])
        meta, lines = self._part(str(body["blobKey"]))
        try:
            records = json.loads(lines[meta["batches"].index(first)])
        except ValueError:  # no batch line starts at `first`
            records = None
        if not isinstance(records, list) or len(records) != last - first + 1:
            raise MissingPart(f"rows {first}-{last} are not a batch of {body['blobKey']}")
        if meta.get("plain"):
            return meta, list(enumerate(records, start=first))
        return meta, [(first + i, _restored(record)) for i, record in enumerate(records)]
