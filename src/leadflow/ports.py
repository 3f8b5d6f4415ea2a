"""The ports: what pipelines need from storage, as Protocols. Adapters implement them."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from .domain.lead import LeadDraft, Rejection
from .domain.merge import Update
from .domain.undo import UndoResult

DEAD_LETTERED = "deadLettered"  # the summary count of a job's batches in the DLQ


@dataclass(frozen=True, slots=True)
class WriteContext:
    """Who and what a batch of writes belongs to."""

    owner: str
    import_id: str
    batch_id: str
    source: str  # api | upload | inbox | cli
    source_file: str | None
    now: str  # ISO-8601 UTC, one timestamp for the whole batch


class BadCursor(ValueError):
    """The pagination cursor was not one this service handed out."""


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


class LeadUnitOfWork(Protocol):
    """One transaction over the leads of one owner."""

    def find_by_keys(
        self, owner: str, keys: Iterable[str], import_id: str | None = None
    ) -> dict[str, Mapping[str, Any]]:
        """Stored leads by duplicate key. A lead last written by `import_id` carries
        `import_base`: its values before that import (None if the import created it)."""
        ...

    def find_skips(self, owner: str, import_id: str, keys: Iterable[str]) -> dict[str, int]:
        """Key -> row of this import's rows that its mode skipped."""
        ...

    def record_skips(self, owner: str, import_id: str, skips: Mapping[str, int]) -> None: ...

    def insert_leads(
        self,
        ctx: WriteContext,
        drafts: Sequence[LeadDraft],
        lead_ids: Sequence[str],
        prepared: Any = None,
    ) -> None:
        """Insert new leads; `prepared` is what LeadStore.prepare_leads made of them."""
        ...

    def apply_updates(self, ctx: WriteContext, updates: Sequence[Update]) -> None: ...

    def log_rejections(self, ctx: WriteContext, rejections: Sequence[Rejection]) -> None:
        """Keep rejected records in the schema-error log, with every reason."""
        ...

    def claim_batch(self, job_id: str, batch_no: int) -> bool:
        """Enter a batch in the ledger; False when it was applied already (a redelivery).
        A batch entered as dead-lettered is claimed again (a redrive): its dead entry
        leaves the job's totals, and its real counts take its place."""
        ...

    def mark_dead(self, job_id: str, batch_no: int) -> bool:
        """Enter a batch that went to the DLQ: it counts as done for the job's completion,
        with counts {DEAD_LETTERED: 1}. False when the ledger has the batch already."""
        ...

    def finish_batch(
        self,
        job_id: str,
        batch_no: int,
        counts: Mapping[str, int],
        outcomes: Sequence[tuple[int, str, str | None]] = (),
    ) -> None:
        """Record a claimed batch's counts and row outcomes (row, outcome, leadId), in the
        same transaction as its effect."""
        ...


class LeadStore(Protocol):
    def unit_of_work(self) -> AbstractContextManager[LeadUnitOfWork]: ...

    def prepare_leads(self, ctx: WriteContext, drafts: Sequence[LeadDraft]) -> Any:
        """Adapter-specific work on drafts that needs no transaction (done outside one)."""
        ...

    def get_lead(self, owner: str, lead_id: str) -> dict[str, Any] | None: ...

    def batch_totals(self, job_id: str) -> tuple[int, dict[str, int]]:
        """(batches applied, their counts summed) for a job, each batch counted once."""
        ...

    def undo_import(self, owner: str, import_id: str, now: str) -> UndoResult:
        """Delete the leads an import created and give the leads it updated their values
        from before it (from the audit trail), as domain.undo.plan_undo decides: a lead
        that another import or API call changed since is left alone and listed as a
        conflict. Each restore writes an `import_undone` audit entry with the values it
        replaced and restored. Idempotent: an interrupted undo may run again."""
        ...

    def forget_job(self, job_id: str) -> None:
        """Delete a job's batch-ledger entries and skip-ledger rows (the TTL sweeper, once
        the job's status is gone); its leads and their audit trail stay."""
        ...

    def batch_outcomes(self, job_id: str) -> Iterable[tuple[int, str, str | None]]:
        """Every row outcome the job's batches recorded, in batch order."""
        ...

    def lead_history(self, owner: str, lead_id: str) -> list[dict[str, Any]]: ...

    def list_leads(
        self, owner: str, query: LeadQuery
    ) -> tuple[list[dict[str, Any]], str | None]: ...

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

    def top_companies(self, owner: str, limit: int = 10) -> list[tuple[str, int]]: ...

    def list_schema_errors(
        self,
        owner: str,
        limit: int = 100,
        before: int | None = None,
        import_id: str | None = None,
    ) -> list[dict[str, Any]]: ...


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
