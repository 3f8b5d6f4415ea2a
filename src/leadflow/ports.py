"""The ports: what pipelines need from storage, as Protocols. Adapters implement them.

One port per aggregate, each with the behaviour every adapter keeps (the in-memory fakes
are written from these docstrings; tests/contract/ runs every adapter against them).

THE WRITE GUARANTEE. Every lead write is conditional and idempotent. It is stamped with
(import, row) and applies only when (a) the lead's version is still the one the planner
read (optimistic concurrency: no read locks), and (b) no later row of the same import
wrote that lead already, so the last occurrence of a key wins in any order. Each write
carries its row receipt (the row's outcome and count deltas) and its audit entry, all or
nothing (at most 4 items per lead). A batch's ledger entry is written last, after every
write of the batch. A replayed batch reads its rows' receipts first: a row with a receipt
is not planned again and counts as it did the first time, so a replayed batch gives the
same counts. A rejected write (condition failed) makes the pipeline read those keys again
and plan those rows again (bounded retries; then the message fails and is retried).
Proof: tests/contract/test_write_guarantee.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from .domain.lead import Rejection
from .domain.undo import UndoResult

DEAD_LETTERED = "deadLettered"  # the summary count of a job's batches in the DLQ


# ----------------------------------------------------------------------------- leads
@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who and what a batch of writes belongs to."""

    owner: str
    import_id: str
    batch_id: str
    source: str  # api | upload | inbox | cli
    source_file: str | None
    now: str  # ISO-8601 UTC, one timestamp for the whole batch


@dataclass(frozen=True, slots=True)
class RowReceipt:
    """What one row of an import did, kept with its write so a replay counts it the same.

    `counts` are the row's deltas to the batch counts (e.g. {"updated": 1}, or
    {"duplicates": 1, "updated": -1, "unchanged": 1} when a later row of the same file
    displaced an earlier one's effect)."""

    import_id: str
    row: int
    outcome: str  # created | updated | unchanged | duplicate | skipped
    lead_id: str | None
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of a lead's history (lead_updated ...), keyed by (lead_id, import_id,
    row) so that writing it twice keeps one."""

    lead_id: str
    action: str
    email: str | None
    previous_source_file: str | None
    new_source_file: str | None
    fields_changed: Sequence[str]
    previous: Mapping[str, Any]  # column -> value before the write
    batch_id: str
    import_id: str | None
    row: int | None
    timestamp: str


@dataclass(frozen=True, slots=True)
class LeadWrite:
    """One conditional write of one lead, applied with its receipt and audit entry, all or
    nothing.

    kind "create": the lead's key (email, or E.164 phone without email) must be free for
    the owner; `values` holds every stored column. kind "update": the stored lead's
    `version` must still be `expected_version`, and its stamp must not be a later row of
    the same import; `values` holds the changed columns plus the stamp columns
    (import_id, import_row; source_file and updated_at when something changes). kind
    "stamp": like update, but only the (import, row) stamp moves (a row that changes
    nothing: no audit, updatedAt stays). kind "delete": the version must match. Every
    applied write increments the lead's version (a create starts at 1).
    """

    kind: Literal["create", "update", "stamp", "delete"]
    owner: str
    lead_id: str
    key: str | None
    values: Mapping[str, Any]
    expected_version: int | None  # None for create
    import_id: str | None
    row: int | None
    receipt: RowReceipt | None = None  # None outside ledgered imports (API, CLI)
    audit: AuditRecord | None = None


MAX_WRITES_PER_APPLY = 25  # 25 leads x 4 items <= DynamoDB's 100 per transaction


class LeadRepository(Protocol):
    """Lead writes (the aggregate root): conditional, idempotent, one lead at a time.

    Stored leads are dicts of columns (snake_case: lead_id, owner, email, phone,
    phone_valid, first_name, last_name, name, title, company, remarks, opt_in, interests,
    attributes, source, source_file, created_at, updated_at, import_id, import_row,
    created_import_id, version); booleans as bool, interests and attributes as values.
    A key is an email (it has an @) or, for leads without one, a valid E.164 phone; an
    owner has at most one lead per key.
    """

    # The most writes (or skip receipts) one apply / record_skips call takes: 25 where a
    # transaction holds at most 100 items (DynamoDB); SQLite takes more, for speed.
    max_writes: int

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Stored leads by key. A lead last written by `import_id` carries `import_base`:
        its values before that import (None if the import created it), rebuilt from the
        audit trail."""
        ...

    def receipts(self, import_id: str, rows: Iterable[int]) -> dict[int, RowReceipt]:
        """The receipts of these rows of an import that were written already."""
        ...

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        """Key -> the row of this import that its mode skipped (create-only, update-only)."""
        ...

    def record_skips(
        self,
        owner: str,
        import_id: str,
        skips: Mapping[str, int],
        receipts: Sequence[RowReceipt] = (),
    ) -> None:
        """Idempotent: a key keeps the larger row. `receipts` (the skipped rows' own,
        at most 25) are kept with the skips, all or nothing."""
        ...

    def apply(self, writes: Sequence[LeadWrite]) -> list[bool]:
        """Apply each write if its condition holds; per write, True when applied (or when
        this very write was applied already: its receipt exists, or the lead holds its
        (import, row) stamp), False when its condition failed (the caller reads the lead
        again and plans the row again). Callers pass at most `max_writes`."""
        ...

    def session(self) -> AbstractContextManager[None]:
        """Group the calls inside it for speed (SQLite: one transaction, so no condition
        ever fails there; an exception inside undoes them all). Correctness never depends
        on it; other stores make it a no-op."""
        ...

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        """Delete the leads an import created and give the leads it updated their values
        from before it (from the audit trail), as domain.undo.plan_undo decides: a lead
        that another import or API call changed since is left alone and listed as a
        conflict. Each restore writes an `import_undone` audit entry with the values it
        replaced and restored. Idempotent: an interrupted undo may run again."""
        ...

    def forget_import(self, import_id: str) -> None:
        """Delete an import's receipts and skips (the sweeper); leads and audit stay."""
        ...


@dataclass(frozen=True, slots=True)
class LeadQuery:
    q: str | None = None
    company: str | None = None
    source: str | None = None
    sort: str = "createdAt"
    descending: bool = False
    cursor: str | None = None
    limit: int = 50
    opt_in: bool | None = None  # None: either; the web app's filters
    phone_valid: bool | None = None
    region: str = "US"  # how `q` reads a phone number written without +country


class BadCursor(ValueError):
    """The pagination cursor was not one this service handed out."""


class LeadReadModel(Protocol):
    """Queries over leads, as API documents (camelCase). Eventually consistent is allowed
    (a DynamoDB GSI); contract tests read after writes have returned. Every query is
    scoped to one owner."""

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None: ...

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]:
        """The lead's audit entries, oldest first."""
        ...

    def list_leads(self, owner: str, query: LeadQuery) -> tuple[list[dict[str, Any]], str | None]:
        """A page of leads and the cursor of the next one (None: last page); BadCursor."""
        ...

    def count_leads(self, owner: str) -> int: ...

    def find_leads(
        self,
        owner: str,
        company: str | None = None,
        title: str | None = None,
        since: str | None = None,
        limit: int = 50,
    ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, the newest `limit`): company and title as case-blind
        substrings, `since` an ISO time the lead was created at or after."""
        ...

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]:
        """Companies by number of leads, most first (leads without a company left out)."""
        ...


class SchemaErrorLog(Protocol):
    """Rejected records with every reason, per owner; idempotent by (import_id, row):
    appending a row of an import again keeps one entry. Listed newest first."""

    def append(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None: ...

    def list(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries newest first ({id, source, importId, index, record, errors, createdAt});
        `before`: only entries older than the one with that id."""
        ...

    def forget_import(self, import_id: str) -> None: ...


class BatchLedger(Protocol):
    """Which batches of a job are in, with their counts and row outcomes.

    A job's totals are the sum of its entries, never one hot counter. An entry is written
    once (put-if-absent); a dead entry ({DEAD_LETTERED: 1}) is replaced by the real one
    when the batch is redriven, which then carries {DEAD_LETTERED: 0} (so the job's
    summary still says deadLettered: 0 once every dead batch is back).
    """

    def record(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> bool:
        """Enter a batch; False when it was in already (not dead)."""
        ...

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        """Enter a batch that went to the DLQ; False when the ledger has it already."""
        ...

    def has(self, job_id: str, batch_no: int) -> bool:
        """Whether a live (not dead) entry exists: a redelivery can skip its work early."""
        ...

    def totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        """(entries, their counts summed)."""
        ...

    def outcomes(self, job_id: str) -> Iterator[tuple[int, str, str | None]]:
        """Every (row, outcome, lead id) the job's entries recorded, in batch order."""
        ...

    def forget(self, job_id: str) -> None: ...


# ----------------------------------------------------------------------------- jobs
JOB_TTL_SECONDS = 24 * 3600  # a job lives 24 h after it ends (seed 004's `ttl`)
ENDED = ("completed", "error", "cancelled")
DEAD_LETTERED_CODE = "dead_lettered"  # error code of a job that ended because nothing applied


@dataclass(frozen=True, slots=True)
class Job:
    """A job record: an upload, an enrichment request, an inbox file. Its running totals
    are not here: they are the sum of its BatchLedger entries (jobs/status.py puts the
    status document of seed 004 together from both)."""

    job_id: str
    owner: str
    kind: str  # upload | process (enrichment) ...
    status: str  # uploading | uploaded | processing | completed | error | cancelled
    stage: str  # file_upload | file_processing | batch_processing | completed | cancelled
    options: dict[str, Any]
    created_at: str  # ISO-8601 UTC
    updated_at: str
    blob_key: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    total_batches: int | None = None
    total_leads: int | None = None
    start_time: str | None = None
    error: dict[str, Any] | None = None  # {message, code, timestamp}
    ended_at: float | None = None  # epoch seconds
    ttl: int | None = None  # epoch seconds; past it the job reads as absent
    result_key: str | None = None
    undo: dict[str, Any] | None = None  # {state: running|done, ...}
    warnings: list[str] | None = None
    columns: dict[str, str | None] | None = None  # header -> field (None: attributes)


class DuplicateJob(ValueError):
    """A job with this id exists already."""


class JobStore(Protocol):
    """Job records, by id. Every change is one conditional write of one job.

    - `create` stores a new job (DuplicateJob when the id is taken).
    - A job whose `ttl` has passed (ttl < now) reads as absent everywhere but `expired`
      and `forget`, so a store that deletes expired items late (DynamoDB TTL) behaves
      the same as one that never keeps them.
    - `update(job_id, **fields)` sets Job fields by name (TypeError for other names) and
      `updated_at`. An ended job (status completed, error or cancelled) stays ended: a
      status change is refused (False, nothing written) and a stage change is ignored,
      so a worker's late "processing" never undoes a cancel. Setting an ended status
      also sets `ended_at` (now) and `ttl` (now + JOB_TTL_SECONDS) unless given. False
      when the job is absent or the change was refused.
    - `reopen` is the only way back: a job that ended in `error` with code
      DEAD_LETTERED_CODE becomes `processing` again (error, ended_at, ttl cleared), for
      its redriven messages. False for any other job.
    - `claim_undo` marks the undo running ({state, startedAt, startedEpoch}) when there
      is none, or when a running one started over `stale_after` seconds ago (its process
      died); of two concurrent claims one wins. `release_undo` forgets a running undo.
    """

    def create(self, job: Job) -> None: ...

    def get(self, job_id: str, owner: str | None = None) -> Job | None:
        """The job; None when unknown, past its ttl, or not `owner`'s (when given)."""
        ...

    def update(self, job_id: str, **fields: Any) -> bool: ...

    def list(self, owner: str, limit: int = 100) -> list[Job]:
        """The owner's jobs, newest first (by created_at)."""
        ...

    def cancel(self, job_id: str, owner: str) -> bool | None:
        """status and stage `cancelled`: None when absent, False when ended already."""
        ...

    def reopen(self, job_id: str) -> bool: ...

    def claim_undo(self, job_id: str, owner: str, stale_after: float) -> bool: ...

    def release_undo(self, job_id: str) -> None: ...

    def expired(self, now: float, limit: int = 100) -> builtins.list[Job]:
        """Up to `limit` jobs whose ttl < now, earliest ttl first (for the sweeper)."""
        ...

    def forget(self, job_id: str) -> bool:
        """Delete the job record, expired or not; False when it was gone already."""
        ...


# ----------------------------------------------------------------------------- queue
@dataclass(frozen=True, slots=True)
class Message:
    """A leased message: delete it with its receipt before the lease runs out."""

    id: str
    receipt: str
    body: dict[str, Any]  # small: pointers, never records (SQS: 256 KB)
    receive_count: int  # this delivery included
    owner: str | None = None


class Queue(Protocol):
    """A durable queue, delivery at least once, with leases (visibility timeouts).

    - `send_many` queues bodies (JSON objects) for `owner`, visible after `delay` s; ids.
    - `receive` leases up to `max_messages` visible messages for `visibility_timeout` s
      and counts the receive. Order is not promised. A message that has been received
      `max_receive_count` times and comes up again is not delivered: it moves to the
      DeadLetters with its last error (or "its lease ran out ...").
    - A lease is held through its receipt: `delete`, `change_visibility`, `release` and
      `fail` return False (and change nothing) when the message is gone (deleted,
      released, dead-lettered). A receipt from before a later receive of the message is
      refused too where the store can tell (memory, SQLite); SQS may accept it, so
      correctness never rests on a stale receipt failing (the batch ledger holds it).
    - `release` gives the message back without using one of its tries: a copy (same
      body and owner, the tries used before this receive) is sent with `delay` and this
      one deleted, since SQS cannot un-count a receive. The copy has a new id.
    - `fail` gives it back with its error, visible after `retry_after` s, or moves it to
      the DeadLetters when it has used all its receives. (A store that cannot change a
      message in place, SQS, sends a copy as `release` does: ids may change.)
    - `depth`: messages waiting or leased (not dead).
    """

    def send_many(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None, delay: float = 0.0
    ) -> list[str]: ...

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]: ...

    def delete(self, message: Message) -> bool: ...

    def delete_many(self, messages: Sequence[Message]) -> int:
        """Delete several; how many still held their lease."""
        ...

    def change_visibility(self, message: Message, timeout: float) -> bool:
        """Extend (or end, with 0) the lease."""
        ...

    def release(self, message: Message, delay: float) -> bool: ...

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool: ...

    def depth(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed `max_receive_count` times (or was buried), with its error."""

    id: str
    body: dict[str, Any]
    receive_count: int
    last_error: str | None
    owner: str | None
    created_at: str  # ISO-8601 UTC: first sent
    dead_at: str  # ISO-8601 UTC: moved to the dead letters

    def as_json(self) -> dict[str, Any]:
        """The dead letter as the API and the CLI show it (camelCase, like every document)."""
        return {
            "id": self.id,
            "body": self.body,
            "receiveCount": self.receive_count,
            "lastError": self.last_error,
            "owner": self.owner,
            "createdAt": self.created_at,
            "deadAt": self.dead_at,
        }


class DeadLetters(Protocol):
    """The queue's dead letters (its DLQ), by owner (None: every owner's) and id.

    - `add` buries bodies at once with their reason (records no retry can fix, such as
      incomplete orders, waiting for a person; a message over the outage budget); ids.
    - `list` newest first (by dead_at); `depth` counts them.
    - `redrive` sends them back to the queue as fresh messages (their tries start
      again; ids may change), `purge` deletes them; both take `ids` (None: all of the
      owner's; ids unknown or of another owner are ignored) and return how many.
    """

    def add(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str
    ) -> list[str]: ...

    def list(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]: ...

    def depth(self, owner: str | None = None) -> int: ...

    def redrive(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int: ...

    def purge(self, owner: str | None = None, ids: Sequence[str] | None = None) -> int: ...


# ----------------------------------------------------------------------------- blobs
class BadBlobKey(ValueError):
    """A blob key must be a relative path of letters, digits and . _ - / parts."""


class BlobStore(Protocol):
    """Files by key (uploads, results, error files): written whole or not at all."""

    def put_stream(self, key: str, chunks: Iterable[bytes], max_bytes: int | None = None) -> int:
        """Store the chunks under `key` atomically; the size. Over `max_bytes`: nothing is
        stored and BlobTooLarge is raised."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The blob for reading; FileNotFoundError when there is none."""
        ...

    def size(self, key: str) -> int | None: ...

    def delete(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under `prefix`, a folder ending in '/' (a job's
        "jobs/<id>/"); how many were deleted."""
        ...

    def link(self, key: str, expires_in: int, download_name: str | None = None) -> str | None:
        """A signed (local) or presigned (S3) GET link; None when the store has none and
        the API streams the blob itself."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where the blob lies on this machine's disk, if it does (lets the API send it
        with sendfile); None for remote stores."""
        ...


class BlobTooLarge(ValueError):
    """A blob went over the size limit it was written with."""


# ----------------------------------------------------------------------------- outbox
OUTBOX_CLAIM_SECONDS = 60.0  # a claim older than this (its sender died) may be taken again


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A claimed notification: `attempts` counts this one."""

    id: str
    owner: str
    payload: dict[str, Any]
    attempts: int


class Outbox(Protocol):
    """Notifications to send, each once, and the alarms' state.

    - `add_many` adds entries by idempotency key (file and lead): a key seen before,
      whatever its entry's state, adds nothing; how many were new.
    - `claim` leases up to `limit` entries that are pending and due (a `retry_at` time
      not after `now`), or whose claim is older than OUTBOX_CLAIM_SECONDS (the sender
      died); each claim counts an attempt. Order is not promised.
    - `finish` ends an entry: status `sent` (by `channel`) or `dead` (with `error`); it is
      never claimed again. `retry_at` puts claimed entries back, due at `when` (epoch
      s), keeping `error` as the last one; `counts=False` gives the attempt back (a rate
      limit or a pause is not a try).
    - `counts`: entries per status (pending, sending, sent, dead), zero ones left out.
    - `set_alarm(name, raised)` records an alarm's state; True when it changed (one alert
      per crossing; the first call for a name counts as a change). `alarm_raised`: the
      recorded state (False when never set).
    """

    def add_many(self, owner: str, entries: Mapping[str, Mapping[str, Any]], now: str) -> int: ...

    def claim(self, limit: int = 20, now: float | None = None) -> list[OutboxEntry]: ...

    def finish(
        self, entry: OutboxEntry, status: str, channel: str | None, error: str | None
    ) -> None: ...

    def retry_at(
        self, entries: Sequence[OutboxEntry], when: float, error: str | None, counts: bool = True
    ) -> None: ...

    def counts(self) -> dict[str, int]: ...

    def alarm_raised(self, name: str) -> bool: ...

    def set_alarm(self, name: str, raised: bool) -> bool: ...


Verdict = Literal["sent", "rate_limited", "failed", "refused"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one send gave: sent; rate_limited (wait `retry_after` s); failed (may work
    later); refused (this message will never be taken)."""

    verdict: Verdict
    reason: str | None = None
    retry_after: float | None = None


class NotificationChannel(Protocol):
    """One way to tell a person (Slack webhook, SMTP, SES): `send` tries once and says
    how it went as a Delivery; it never raises for the peer's sake."""

    name: str  # slack | email | ...

    def send(self, subject: str, text: str, blocks: Mapping[str, Any] | None = None) -> Delivery:
        """`subject` and `text` for e-mail-like channels; `blocks` (a Slack message) for
        channels that show rich messages, which fall back to `text` without them."""
        ...


# ----------------------------------------------------------------------------- rest
class OrderStore(Protocol):
    """Complete sales orders (seed 003), idempotent by (owner, source, order id, item id):
    the same item of the same order from the same source is stored once."""

    def save(self, owner: str, source: str, orders: Sequence[Any], now: str) -> int:
        """Store `orders` (domain.orders.Order); how many were new."""
        ...

    def list(self, owner: str, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        """The owner's orders, newest first, as API documents ({id, source, orderId,
        itemId, itemDesc, qty, contact: {name, email}, createdAt}); `id` grows with each
        new order, and `before` pages (only ids below it)."""
        ...


class ProviderCache(Protocol):
    """Remote providers' answers by provider and input hash; a later put replaces."""

    def get_many(self, provider: str, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The answers found, by hash (missing ones left out)."""
        ...

    def put_many(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None: ...


class UserStore(Protocol):
    """Users and their password hashes; adding a name that exists replaces its hash."""

    def add_user(self, username: str, password_hash: str, now: str) -> None: ...

    def has_users(self) -> bool: ...

    def password_hash(self, username: str) -> str | None: ...

    def usernames(self, limit: int = 20) -> list[str]:
        """The first `limit` user names, in alphabetical order."""
        ...


class MappingStore(Protocol):
    """Column mappings saved by name, per owner (the web app's import page)."""

    def save_mapping(self, owner: str, name: str, mapping: Mapping[str, str], now: str) -> None:
        """Keep `mapping` (column -> lead field, or '-' for "don't import") under `name`,
        replacing one of the same name."""
        ...

    def mapping_names(self, owner: str) -> list[str]:
        """The owner's saved mapping names, sorted."""
        ...

    def get_mapping(self, owner: str, name: str) -> dict[str, str] | None: ...
