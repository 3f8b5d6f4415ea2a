"""The ports: what pipelines need from storage, as Protocols. Adapters implement them."""

from __future__ import annotations

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
    source: str  # api | upload | inbox
    source_file: str | None
    now: str  # ISO-8601 UTC, one timestamp for the whole batch


# The lead aggregate's write types (ports_target.py; helper core's ports.py has the same,
# with the LeadRepository port that the DynamoDB adapter implements).
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


class UserStore(Protocol):
    def add_user(self, username: str, password_hash: str, now: str) -> None: ...

    def has_users(self) -> bool: ...

    def password_hash(self, username: str) -> str | None: ...

    def usernames(self, limit: int = 20) -> list[str]:
        """The first `limit` user names, in alphabetical order."""
        ...


@dataclass(frozen=True, slots=True)
class Message:
    """A leased message: delete it with its receipt before the lease runs out."""

    id: int
    receipt: str
    body: dict[str, Any]
    receive_count: int
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed `max_receive_count` times, with its last error."""

    id: int
    body: dict[str, Any]
    receive_count: int
    last_error: str | None
    owner: str | None
    created_at: str
    dead_at: str

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


class Queue(Protocol):
    """A durable at-least-once queue with leases (visibility timeouts) and a DLQ.

    A received message is invisible to other receivers until its lease ends; a message
    received `max_receive_count` times without being deleted moves to the DLQ with its
    last error. Dead-letter calls take `owner` (None: every owner's).
    """

    def send_many(
        self, bodies: Sequence[Mapping[str, Any]], owner: str | None = None
    ) -> list[int]: ...

    def receive(self, max_messages: int, visibility_timeout: float) -> list[Message]: ...

    def bury(self, bodies: Sequence[Mapping[str, Any]], owner: str | None, error: str) -> list[int]:
        """Put messages straight into the DLQ with their reason (records that no retry
        can fix, such as incomplete orders, waiting there for a person)."""
        ...

    def delete(self, message: Message) -> bool:
        """Acknowledge: False when the lease was lost (the message may run again)."""
        ...

    def delete_many(self, messages: Sequence[Message]) -> int:
        """Acknowledge several messages at once; how many still held their lease."""
        ...

    def change_visibility(self, message: Message, timeout: float) -> bool:
        """Extend (or end, with 0) the lease; False when the lease was lost."""
        ...

    def release(self, message: Message, delay: float) -> bool:
        """Give the message back uncounted: this receive does not use one of its tries
        (a provider's circuit is open; the message is not at fault)."""
        ...

    def fail(self, message: Message, error: str, retry_after: float = 0.0) -> bool:
        """Give the message back with its error: it runs again after `retry_after`
        seconds, or moves to the DLQ if it has used all its receives."""
        ...

    def depth(self) -> int:
        """Messages waiting or leased (not dead)."""
        ...

    def dead_letters(self, owner: str | None = None, limit: int = 100) -> list[DeadLetter]: ...

    def dlq_depth(self, owner: str | None = None) -> int: ...

    def redrive(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        """Move dead letters back to the queue with a fresh receive count; how many."""
        ...

    def purge_dead(self, owner: str | None = None, ids: Sequence[int] | None = None) -> int:
        """Delete dead letters for good; how many."""
        ...


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

    def local_path(self, key: str) -> Path | None:
        """Where the blob lies on this machine's disk, if it does (lets the API send it
        with sendfile); None for remote stores."""
        ...


class BlobTooLarge(ValueError):
    """A blob went over the size limit it was written with."""


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
