"""Inbox objects in S3: what an S3 event notification names, and running one object like
a file dropped into the local inbox (jobs/inbox.py). Shared by the inbox Lambda
(inbox_handler.py) and the inbox queue poller of `leadflow serve`/`worker` on the aws
backend (inbox_poller.py)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from typing import Any, BinaryIO, cast
from urllib.parse import unquote_plus

from ..jobs.inbox import KINDS, Inbox

log = logging.getLogger("leadflow.aws.inbox")
MISSING = ("404", "NoSuchKey", "NotFound")

Opener = Callable[[str], BinaryIO]  # object key -> its bytes; FileNotFoundError when gone


def s3_opener(s3: Any, bucket: str) -> Opener:
    """Opens objects of `bucket` by their S3 key as is. Not through the BlobStore port:
    its keys are leadflow's own (no spaces, no commas), while an inbox object is named
    by whoever dropped it ("Q3 leads, final.csv")."""

    def open_object(key: str) -> BinaryIO:
        try:
            answer = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in MISSING:
                raise FileNotFoundError(key) from exc
            raise
        return cast(BinaryIO, answer["Body"])  # botocore's StreamingBody: an IOBase

    return open_object


def object_keys(body: str) -> list[str]:
    """The object keys an S3 event notification names (none for S3's test event)."""
    event = json.loads(body)
    return [
        unquote_plus(record["s3"]["object"]["key"])  # S3 sends keys URL-encoded
        for record in event.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]


def run_object(inbox: Inbox, open_object: Opener, key: str, claimer: str = "lambda") -> None:
    """Run one inbox object (`inbox/<kind>/<name>`) like a file dropped in the inbox: it
    is copied to `<inbox>/<kind>/processing/<claimer>/` and ends in processed/ or
    rejected/ there. Raises only when the store is unavailable (Inbox.process)."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "inbox" or parts[1] not in KINDS or not parts[2]:
        return  # not a file of the inbox (a folder marker, a nested key): nothing to do
    kind, name = parts[1], parts[2]
    claimed_dir = inbox.root / kind / "processing" / claimer
    claimed_dir.mkdir(parents=True, exist_ok=True)
    claimed = claimed_dir / name
    try:
        source = open_object(key)
    except FileNotFoundError:  # deleted since S3 told us: nothing left to run
        log.warning("inbox object is gone", extra={"key": key})
        return
    with source, claimed.open("wb") as target:
        shutil.copyfileobj(source, target)
    inbox.process(kind, claimed)
