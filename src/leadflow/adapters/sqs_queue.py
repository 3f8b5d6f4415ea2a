"""The Queue and DeadLetters ports on Amazon SQS (a standard queue and its DLQ).

The boto3 SQS client is injected; queue URLs come from `queue_names`/`create_queues`
(names `{prefix}-{name}` and `{prefix}-{name}-dlq`). What SQS gives and what the adapter
adds, so the behaviour matches the ports' docstrings:

* **Receive counting.** The main queue has a RedrivePolicy (maxReceiveCount =
  LEADFLOW_MAX_RECEIVE_COUNT): SQS itself moves a message whose lease ran out that many
  times to the DLQ (a worker killed mid-message never sees it fail).
* **release / fail re-send.** SQS cannot un-count a receive, and a message's attributes
  cannot change in place. So `release` sends a copy (same body and owner, with the tries
  used *before* this receive in the `leadflow-tries` attribute) and deletes the
  original; `fail` sends a copy with the tries used *including* this one and the error
  in `leadflow-error`, delayed by `retry_after` (SQS's DelaySeconds: at most 900 s,
  longer waits are cut to 900 s). A delivered message's `receive_count` is its carried
  tries plus SQS's ApproximateReceiveCount; a receive that finds it over
  `max_receive_count` moves it to the DLQ itself (send there, delete here), as the
  memory queue does. The copy has a new id.
* **The last error** travels with the message as the `leadflow-error` attribute, into
  the DLQ too (SQS moves attributes along), so the DLQ keeps the reason although SQS's
  redrive does not record one; a message that died by running out of leases without a
  `fail` shows "its lease ran out N times".
* **Leases.** SQS answers a DeleteMessage of a deleted message with success, so every
  lease operation probes first with ChangeMessageVisibility(Batch): a gone message
  (deleted, dead) answers ReceiptHandleIsInvalid and the adapter returns False (a
  delete costs two requests per 10 messages). An *older* receipt of a message received
  again since is accepted by SQS (documented: the delete "succeeds" but may not
  delete); the adapter remembers the latest receipt of each message it received
  (`LEASE_MEMORY` of them), so a receipt made stale by a receive through the same
  instance (another thread of the worker) is refused, but one made stale by another
  process is not seen: there, an at-least-once duplicate is possible. For the same
  reason a second delivery of a message whose lease from this instance still runs
  (SQS may deliver twice) is dropped from `receive`.
* **Dead letters are read by receiving.** SQS has no "peek": `list`, `depth(owner)`,
  `redrive` and `purge` receive the DLQ's messages with a short lease
  (`scan_lease` seconds), act on the matching ones, and give the others back at once
  (visibility 0). Limits: a listing sees at most `scan_limit` messages; messages leased
  by a concurrent listing are missed by that call; each listing adds to the DLQ
  messages' ApproximateReceiveCount, so receive counts shown for the DLQ come from the
  adapter's attributes, not SQS's count. A message the adapter moved or buried has its
  exact `dead_at`; one that SQS's redrive moved shows its tries as carried tries +
  max_receive_count and, SQS keeping no move time, its first-sent time as `dead_at`.
  Redrive is a receive-and-send loop (moto has no StartMessageMoveTask, and that API
  cannot select by owner or id).
* **Depth** is SQS's approximate counts (visible + in flight + delayed).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..clock import iso as _iso
from ..ports import DeadLetter, Message
from .sqlite_queue import EXPIRED

OWNER = "owner"
TRIES = "leadflow-tries"  # tries used before this copy was sent
ERROR = "leadflow-error"  # the last error
CREATED = "leadflow-created"  # ISO time the first copy was sent
DEAD_AT = "leadflow-dead"  # ISO time it went to the DLQ (set when the adapter moved it)
MAX_DELAY = 900  # SQS's DelaySeconds limit
MAX_VISIBILITY = 43200  # SQS's VisibilityTimeout limit (12 h)
MAX_BATCH = 10  # SQS's batch size (send, delete, receive)
MAX_BATCH_BYTES = 256 * 1024  # stay under SQS's request payload limit
MAX_ERROR_CHARS = 4000
PROBE_LEASE = 60  # s: the lease a probe sets while the message is copied or deleted
LEASE_MEMORY = 10_000  # leases remembered per instance (receipt, first-sent time)
GONE = ("ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue")

Clock = Callable[[], float]

__all__ = ["SqsDeadLetters", "SqsQueue", "create_queues", "queue_names"]


def queue_names(prefix: str, name: str = "jobs") -> tuple[str, str]:
    """(main queue name, DLQ name) for a resource prefix (LEADFLOW_AWS_PREFIX)."""
    return f"{prefix}-{name}", f"{prefix}-{name}-dlq"


def create_queues(
    sqs: Any,
    prefix: str,
    name: str = "jobs",
    max_receive_count: int = 3,
    visibility_timeout: int = 300,
) -> tuple[str, str]:
    """Create (or find) the queue and its DLQ, wired by a RedrivePolicy; their URLs.
    Idempotent (CreateQueue with the same attributes returns the existing queue)."""
    main, dead = queue_names(prefix, name)
    dlq_url = sqs.create_queue(
        QueueName=dead, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    url = sqs.create_queue(
        QueueName=main,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(policy),
        },
    )["QueueUrl"]
    return str(url), str(dlq_url)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _seconds(value: float, limit: int) -> int:
    """Whole seconds for SQS, rounded up (a lease is never shorter than asked), capped."""
    return max(0, min(limit, math.ceil(value)))


def _attrs(
    owner: str | None,
    tries: int = 0,
    error: str | None = None,
    created: str | None = None,
    dead_at: str | None = None,
) -> dict[str, dict[str, str]]:
    attrs: dict[str, dict[str, str]] = {}
    if owner is not None:
        attrs[OWNER] = {"DataType": "String", "StringValue": owner}
    if tries:
        attrs[TRIES] = {"DataType": "Number", "StringValue": str(tries)}
    if error:
        attrs[ERROR] = {"DataType": "String", "StringValue": error[:MAX_ERROR_CHARS]}
    if created:
        attrs[CREATED] = {"DataType": "String", "StringValue": created}
    if dead_at:
        attrs[DEAD_AT] = {"DataType": "String", "StringValue": dead_at}
    return attrs


@dataclass(frozen=True, slots=True)
class _Raw:
    """One received SQS message, decoded."""

    id: str
    receipt: str
    text: str
    owner: str | None
    tries: int  # carried from earlier copies
    sqs_count: int  # ApproximateReceiveCount
    error: str | None
    created: str
    dead_at: str | None

    @property
    def count(self) -> int:
        return self.tries + self.sqs_count

    def body(self) -> dict[str, Any]:
        """The JSON object body; a body that is not one is wrapped as {"raw": text}."""
        try:
            value = json.loads(self.text)
        except ValueError:
            return {"raw": self.text}
        return value if isinstance(value, dict) else {"raw": value}


@dataclass(slots=True)
class _Lease:
    """What this instance knows of a message it handed out."""

    receipt: str
    created: str  # when its first copy was sent
    until: float  # when the lease it gave ends (epoch s, this instance's clock)


def _decode(item: Mapping[str, Any]) -> _Raw:
    attrs = item.get("MessageAttributes") or {}
    system = item.get("Attributes") or {}

    def text(name: str) -> str | None:
        value = attrs.get(name, {}).get("StringValue")
        return None if value is None else str(value)

    sent = int(system.get("SentTimestamp", "0")) / 1000.0
    return _Raw(
        id=str(item["MessageId"]),
        receipt=str(item["ReceiptHandle"]),
        text=str(item.get("Body", "")),
        owner=text(OWNER),
        tries=int(text(TRIES) or 0),
        sqs_count=int(system.get("ApproximateReceiveCount", "1")),
        error=text(ERROR),
        created=text(CREATED) or _iso(sent),
        dead_at=text(DEAD_AT),
    )


class _SqsBase:
    def __init__(self, sqs: Any, url: str, dlq_url: str, clock: Clock) -> None:
        self.sqs = sqs
        self.url = url
        self.dlq_url = dlq_url
        self.clock = clock

    def _send(
        self, url: str, entries: Sequence[tuple[str, dict[str, dict[str, str]], int]]
    ) -> list[str]:
        """SendMessageBatch in chunks of 10 messages and at most 256 KB; the ids, in order.
        A failed entry raises (the caller's step fails and is retried as a whole)."""
        ids: list[str] = []
        chunk: list[dict[str, Any]] = []
        size = 0

        def flush() -> None:
            if not chunk:
                return
            answer = self.sqs.send_message_batch(QueueUrl=url, Entries=chunk)
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused messages: {answer['Failed']}")
            by_id = {e["Id"]: str(e["MessageId"]) for e in answer.get("Successful", [])}
            ids.extend(by_id[e["Id"]] for e in chunk)
            chunk.clear()

        for text, attrs, delay in entries:
            entry_size = len(text.encode()) + len(json.dumps(attrs))
            if chunk and (len(chunk) == MAX_BATCH or size + entry_size > MAX_BATCH_BYTES):
                flush()
                size = 0
            entry: dict[str, Any] = {"Id": str(len(chunk)), "MessageBody": text}
            if attrs:
                entry["MessageAttributes"] = attrs
            if delay:
                entry["DelaySeconds"] = delay
            chunk.append(entry)
            size += entry_size
        flush()
        return ids

    def _receive(self, url: str, max_messages: int, visibility: int) -> list[_Raw]:
        """One ReceiveMessage call (at most 10), decoded."""
        answer = self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(MAX_BATCH, max_messages)),
            VisibilityTimeout=visibility,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            WaitTimeSeconds=0,
        )
        return [_decode(item) for item in answer.get("Messages", [])]

    def _delete_raw(self, url: str, receipts: Sequence[str]) -> int:
        deleted = 0
        for start in range(0, len(receipts), MAX_BATCH):
            chunk = receipts[start : start + MAX_BATCH]
            answer = self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)],
            )
            deleted += len(answer.get("Successful", []))
        return deleted

    def _to_dlq(self, raw: _Raw, count: int, error: str | None) -> None:
        """Move one leased message to the DLQ: send there with its reason, delete here."""
        attrs = _attrs(raw.owner, count, error, raw.created, _iso(self.clock()))
        self._send(self.dlq_url, [(raw.text, attrs, 0)])
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=raw.receipt)


class SqsQueue(_SqsBase):
    """The Queue port on one SQS standard queue (see the module docstring)."""

    def __init__(
        self,
        sqs: Any,
        url: str,
        dlq_url: str,
        max_receive_count: int = 3,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(sqs, url, dlq_url, clock)
        self.max_receive_count = max_receive_count
        # message id -> (latest receipt, first-sent time) of messages received through
        # this instance: copies keep the time, and an older receipt is known stale
        self._leases: OrderedDict[str, _Lease] = OrderedDict()
        self._lock = threading.Lock()

    def send_many(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None, delay: float = 0.0
    ) -> list[str]:
        """Queue JSON bodies for `owner`, visible after `delay` s (at most 900); the ids."""
        created = _iso(self.clock())
        seconds = _seconds(delay, MAX_DELAY)
        attrs = _attrs(owner, created=created)
        return self._send(self.url, [(json.dumps(dict(b)), attrs, seconds) for b in bodies])

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]:
        """Lease up to `max_messages` (ReceiveMessage calls of 10 until one gives fewer
        than asked); messages over `max_receive_count` go to the DLQ instead."""
        visibility = _seconds(visibility_timeout, MAX_VISIBILITY)
        received: list[Message] = []
        while len(received) < max_messages:
            asked = min(MAX_BATCH, max_messages - len(received))
            batch = self._receive(self.url, asked, visibility)
            for raw in batch:
                if raw.count > self.max_receive_count:
                    # its tries are used up (carried by copies SQS's own count misses)
                    count = raw.count - 1  # this receive was not a delivery
                    self._to_dlq(raw, count, raw.error or EXPIRED.format(count=count))
                    continue
                if self._lease(raw, self.clock() + visibility):
                    received.append(Message(raw.id, raw.receipt, raw.body(), raw.count, raw.owner))
            if len(batch) < asked:
                break  # the queue had no more at hand: the caller polls again later
        return received

    def _lease(self, raw: _Raw, until: float) -> bool:
        """Remember the receipt; False for a second delivery of a message whose lease,
        given by this instance, still runs (SQS delivers at least once: it may hand a
        message out twice; one process never gives it to two of its threads)."""
        with self._lock:
            held = self._leases.get(raw.id)
            if held is not None and held.receipt != raw.receipt and held.until > self.clock():
                return False
            self._leases[raw.id] = _Lease(raw.receipt, raw.created, until)
            self._leases.move_to_end(raw.id)
            while len(self._leases) > LEASE_MEMORY:
                self._leases.popitem(last=False)
            return True

    def delete(self, message: Message) -> bool:
        """Acknowledge; False when the message is gone (probed with a visibility change:
        SQS answers a delete of a deleted message with success)."""
        return self.delete_many([message]) == 1

    def delete_many(self, messages: Sequence[Message]) -> int:
        """Acknowledge several: one ChangeMessageVisibilityBatch probes the leases, one
        DeleteMessageBatch deletes those still held (10 a request); how many."""
        held: list[str] = []
        messages = [m for m in messages if not self._stale(m)]
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            answer = self.sqs.change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": PROBE_LEASE}
                    for i, m in enumerate(chunk)
                ],
            )
            ok = {int(e["Id"]) for e in answer.get("Successful", [])}
            held.extend(m.receipt for i, m in enumerate(chunk) if i in ok)
        for message in messages:
            self._forget(message)
        return self._delete_raw(self.url, held)

    def change_visibility(self, message: Message, timeout: float) -> bool:
        """Extend (or end, with 0) the lease; False when the message is gone or this
        instance has received it again since."""
        if self._stale(message):
            return False
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.url,
                ReceiptHandle=message.receipt,
                VisibilityTimeout=_seconds(timeout, MAX_VISIBILITY),
            )
        except ClientError as exc:
            if _code(exc) in GONE:
                return False
            raise
        with self._lock:
            lease = self._leases.get(message.id)
            if lease is not None:
                lease.until = self.clock() + timeout
        return True

    def _resend(self, message: Message, tries: int, error: str | None, delay: float) -> bool:
        """Replace a leased message by a copy (probing the lease first)."""
        if not self.change_visibility(message, PROBE_LEASE):  # keeps it ours while we copy
            return False
        created = self._created(message)
        attrs = _attrs(message.owner, tries, error, created)
        self._send(self.url, [(json.dumps(message.body), attrs, _seconds(delay, MAX_DELAY))])
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt)
        self._forget(message)
        return True

    def _stale(self, message: Message) -> bool:
        """Whether this instance has received the message again since (SQS itself
        accepts an older receipt: only a receive through this instance is seen)."""
        with self._lock:
            lease = self._leases.get(message.id)
        return lease is not None and lease.receipt != message.receipt

    def _forget(self, message: Message) -> None:
        with self._lock:
            lease = self._leases.get(message.id)
            if lease is not None and lease.receipt == message.receipt:
                del self._leases[message.id]

    def _created(self, message: Message) -> str:
        """When the message's first copy was sent (known for messages this instance
        received; else now)."""
        with self._lock:
            lease = self._leases.get(message.id)
        return lease.created if lease is not None else _iso(self.clock())

    def release(self, message: Message, delay: float) -> bool:
        """Send a copy with `delay` that has used the tries before this receive."""
        return self._resend(message, message.receive_count - 1, None, delay)

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        """A copy with the error, after `retry_after` s; the DLQ when tries are used up."""
        if message.receive_count >= self.max_receive_count:
            if not self.change_visibility(message, PROBE_LEASE):
                return False
            created = self._created(message)
            attrs = _attrs(message.owner, message.receive_count, error, created, _iso(self.clock()))
            self._send(self.dlq_url, [(json.dumps(message.body), attrs, 0)])
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt)
            self._forget(message)
            return True
        return self._resend(message, message.receive_count, error, retry_after)

    def depth(self) -> int:
        """Messages waiting, leased or delayed (SQS's approximate counts)."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)
        return sum(int(attrs["Attributes"].get(n, 0)) for n in names)


class SqsDeadLetters(_SqsBase):
    """The DeadLetters port on the queue's DLQ (see the module docstring)."""

    def __init__(
        self,
        sqs: Any,
        url: str,
        dlq_url: str,
        max_receive_count: int = 3,
        clock: Clock = time.time,
        scan_lease: int = 30,
        scan_limit: int = 10_000,
    ) -> None:
        super().__init__(sqs, url, dlq_url, clock)
        self.max_receive_count = max_receive_count
        self.scan_lease = scan_lease
        self.scan_limit = scan_limit

    def add(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[str]:
        """Bury bodies in the DLQ at once with their reason; their DLQ ids."""
        now = _iso(self.clock())
        attrs = _attrs(owner, 0, error, now, now)
        return self._send(self.dlq_url, [(json.dumps(dict(b)), attrs, 0) for b in bodies])

    def _scan(self) -> Iterator[list[_Raw]]:
        """The DLQ's messages, leased `scan_lease` s, 10 at a time; what the consumer did
        not delete is made visible again when the scan ends."""
        seen = 0
        leased: list[_Raw] = []
        try:
            while seen < self.scan_limit:
                batch = self._receive(self.dlq_url, MAX_BATCH, self.scan_lease)
                if not batch:
                    break
                seen += len(batch)
                leased.extend(batch)
                yield batch
        finally:
            self._unlease(leased)

    def _unlease(self, leased: Sequence[_Raw]) -> None:
        for start in range(0, len(leased), MAX_BATCH):
            chunk = leased[start : start + MAX_BATCH]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r.receipt, "VisibilityTimeout": 0}
                    for i, r in enumerate(chunk)
                ],
            )  # entries already deleted answer an error entry: nothing to give back

    def _letter(self, raw: _Raw) -> DeadLetter:
        if raw.dead_at is not None:  # the adapter moved or buried it: counts are exact
            count = raw.tries
            dead_at = raw.dead_at
        else:  # SQS's redrive moved it after max_receive_count receives of this copy
            count = raw.tries + self.max_receive_count
            dead_at = raw.created
        error = raw.error or EXPIRED.format(count=count)
        return DeadLetter(raw.id, raw.body(), count, error, raw.owner, raw.created, dead_at)

    @staticmethod
    def _wanted(raw: _Raw, owner: str | None, ids: set[str] | None) -> bool:
        return (owner is None or raw.owner == owner) and (ids is None or raw.id in ids)

    def list(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """The owner's dead letters, newest first (by dead_at), at most `limit`."""
        found = [
            self._letter(raw)
            for batch in self._scan()
            for raw in batch
            if self._wanted(raw, owner, None)
        ]
        found.sort(key=lambda d: (d.dead_at, d.id), reverse=True)
        return found if limit < 0 else found[:limit]

    def depth(self, owner: str | None = None) -> int:
        """All: SQS's approximate counts; one owner's: a scan."""
        if owner is not None:
            return sum(1 for batch in self._scan() for raw in batch if raw.owner == owner)
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=names)
        return sum(int(attrs["Attributes"].get(n, 0)) for n in names)

    def redrive(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        """Send matching dead letters back to the queue as fresh messages (tries start
        again, the last error stays), then delete them from the DLQ; how many."""
        if ids is not None and not ids:
            return 0
        wanted = None if ids is None else set(ids)
        moved = 0
        for batch in self._scan():
            chosen = [raw for raw in batch if self._wanted(raw, owner, wanted)]
            if not chosen:
                continue
            entries = [(r.text, _attrs(r.owner, 0, r.error, r.created), 0) for r in chosen]
            self._send(self.url, entries)
            moved += self._delete_raw(self.dlq_url, [r.receipt for r in chosen])
        return moved

    def purge(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int:
        """Delete matching dead letters for good; how many."""
        if ids is not None and not ids:
            return 0
        wanted = None if ids is None else set(ids)
        purged = 0
        for batch in self._scan():
            chosen = [raw.receipt for raw in batch if self._wanted(raw, owner, wanted)]
            purged += self._delete_raw(self.dlq_url, chosen)
        return purged
