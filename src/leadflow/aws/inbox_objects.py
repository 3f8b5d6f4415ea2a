"""Inbox objects in S3: what an S3 event notification names, and running one object like
a file dropped into the local inbox (jobs/inbox.py). Shared by the inbox Lambda
(inbox_handler.py) and the inbox queue poller of `leadflow serve`/`worker` on the aws
backend (inbox_poller.py)."""

from __future__ import annotations

import json
import logging
import shutil
from urllib.parse import unquote_plus

from ..jobs.inbox import KINDS, Inbox
from ..ports import BlobStore

log = logging.getLogger("leadflow.aws.inbox")


def object_keys(body: str) -> list[str]:
    """The object keys an S3 event notification names (none for S3's test event)."""
    event = json.loads(body)
    return [
        unquote_plus(record["s3"]["object"]["key"])  # S3 sends keys URL-encoded
        for record in event.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]


def run_object(inbox: Inbox, blobs: BlobStore, key: str, claimer: str = "lambda") -> None:
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
        source = blobs.open(key)
    except FileNotFoundError:  # deleted since S3 told us: nothing left to run
        log.warning("inbox object is gone", extra={"key": key})
        return
    with source, claimed.open("wb") as target:
        shutil.copyfileobj(source, target)
    inbox.process(kind, claimed)
