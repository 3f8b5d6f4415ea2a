"""The one place leads meet the store: `write_batches` plans each batch with the merge
rules (domain.merge) and writes it under THE WRITE GUARANTEE (ports.py).

For each batch, in order:
1. a batch the ledger has already (a redelivered message) writes nothing: None;
2. its rejections go to the schema-error log (idempotent by import and row);
3. its rows' receipts are read (ledgered batches): a row with one is not planned again
   and counts as it did the first time;
4. the other rows are planned over the stored leads of their keys, and written as
   conditional writes, at most `max_writes` per call, each with its receipt and
   audit entry; rows whose write was rejected (another writer came first) are read and
   planned again after a jittered backoff, at most MAX_ROUNDS times, then WriteConflict
   (the message is retried);
5. last, the batch's ledger entry: its counts (the sum of its rows') and row outcomes.
Imports that nobody redelivers (CLI files, POST /v1/records) have no ledger entry: their
writes carry no receipts and nothing goes to the ledger.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import (
    BatchPlan,
    ImportMode,
    MergePolicy,
    Outcome,
    Update,
    fields_changed,
    last_occurrences,
    plan_batch,
)
from ..ports import (
    AuditRecord,
    BatchLedger,
    LeadRepository,
    LeadWrite,
    RowReceipt,
    SchemaErrorLog,
    WriteContext,
)
from .ids import new_lead_ids

MAX_ROUNDS = 8  # plans of one batch's rejected rows before the batch fails
BACKOFF_SECONDS = 0.002  # the first wait after a lost round; doubles, with full jitter
RowOutcome = tuple[int, str, str | None]  # (row, outcome, lead id)


class WriteConflict(RuntimeError):
    """Rows of a batch kept losing their conditional writes to other writers."""


@dataclass(frozen=True, slots=True)
class WritePorts:
    """The ports a batch write needs; `ledger` None: nothing is recorded in one."""

    leads: LeadRepository
    errors: SchemaErrorLog
    ledger: BatchLedger | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """Where a batch goes in the ledger: its job and its number (its first row)."""

    job_id: str
    batch_no: int


@dataclass(slots=True)
class LeadBatch:
    """One shaped batch of an import, ready to be written.

    `counts` and `decided` are what is known before the write (received, valid, invalid
    ... and the outcomes of rows that never reach the store, such as invalid ones)."""

    ctx: WriteContext
    drafts: Sequence[LeadDraft]
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE
    policy: MergePolicy = MergePolicy.REPLACE
    rejections: Sequence[Rejection] = ()
    ledger: LedgerEntry | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    decided: Sequence[RowOutcome] = ()


@dataclass(slots=True)
class BatchResult:
    """What a batch did: its counts (summary names) and every row's outcome."""

    counts: dict[str, int]
    outcomes: list[RowOutcome]


def write_batches(
    ports: WritePorts,
    batches: Sequence[LeadBatch],
    lock: AbstractContextManager[Any] | None = None,
) -> list[BatchResult | None]:
    """Write batches in order (each sees the ones before); each one's result, None for a
    batch the ledger has already.

    `lock` (shared by writer processes) and the repository's session (SQLite: one
    transaction) are held around the writes only, so writers hold them briefly.
    Raises WriteConflict when rows keep losing their writes (see the module docstring).
    """
    # what needs no stored lead is done before the lock: each draft's lead values if it
    # creates one, and fresh lead ids (reversed: pop() hands them out in ascending order)
    prepared = [
        _Prepared(
            new_lead_ids(len(b.drafts))[::-1], {d.row: _new_values(b.ctx, d) for d in b.drafts}
        )
        for b in batches
    ]
    with lock or nullcontext(), ports.leads.session():
        return [_write_one(ports, b, p) for b, p in zip(batches, prepared, strict=True)]


@dataclass(slots=True)
class _Prepared:
    spare_ids: list[str]
    values: dict[int, dict[str, Any]]  # row -> the lead's values, should it create one


def _write_one(ports: WritePorts, batch: LeadBatch, prepared: _Prepared) -> BatchResult | None:
    ctx, ledger = batch.ctx, batch.ledger if ports.ledger is not None else None
    if ledger is not None and ports.ledger is not None:
        if ports.ledger.has(ledger.job_id, ledger.batch_no):
            return None
    if batch.rejections:
        ports.errors.append(ctx, batch.rejections)
    survivors, losers = last_occurrences(batch.drafts)
    rows: dict[int, tuple[str, str | None, Mapping[str, int]]] = {}
    for loser in losers:
        rows[loser.row] = (Outcome.DUPLICATE, None, {"duplicates": 1})
    pending = survivors
    if ledger is not None:
        receipts = ports.leads.receipts(ctx.import_id, [d.row for d in survivors])
        for row, receipt in receipts.items():
            rows[row] = (receipt.outcome, receipt.lead_id, receipt.counts)
        pending = [d for d in survivors if d.row not in receipts]
    rounds = 0
    while pending:
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise WriteConflict(
                f"{len(pending)} rows of batch {ctx.batch_id} lost their writes "
                f"{MAX_ROUNDS} times; the batch runs again later"
            )
        if rounds > 1:
            # Full jitter (as AWS advises for conditional-write conflicts): two writers of
            # one hot key that lost to each other do not meet again in lockstep.
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** (rounds - 2)))
        pending = _plan_and_write(ports, batch, pending, prepared, rows, ledger is not None)
    _name_losers(rows, survivors, losers)
    counts = dict(batch.counts)
    for _, _, deltas in rows.values():
        for name, value in deltas.items():
            counts[name] = counts.get(name, 0) + value
    for name in ("duplicates", "created", "updated", "unchanged", "ignored"):
        counts.setdefault(name, 0)
    outcomes = sorted(
        [*batch.decided, *((row, str(o), lead_id) for row, (o, lead_id, _) in rows.items())]
    )
    if ledger is not None and ports.ledger is not None:
        ports.ledger.record(ledger.job_id, ledger.batch_no, counts, outcomes)
    return BatchResult(counts, outcomes)


def _plan_and_write(
    ports: WritePorts,
    batch: LeadBatch,
    drafts: list[LeadDraft],
    prepared: _Prepared,
    rows: dict[int, tuple[str, str | None, Mapping[str, int]]],
    receipted: bool,
) -> list[LeadDraft]:
    """Plan `drafts` (distinct keys) over the store as it is now and write the plan;
    the drafts whose writes were rejected (to plan again)."""
    ctx, repo = batch.ctx, ports.leads
    keys = {key for d in drafts if (key := d.key) is not None}
    stored = repo.find_by_keys(ctx.owner, keys, ctx.import_id) if keys else {}
    skipped: dict[str, int] = {}
    if batch.mode is not ImportMode.CREATE_AND_UPDATE and keys:
        skipped = repo.find_skips(ctx.owner, ctx.import_id, keys)
    plan = plan_batch(
        drafts, stored, ctx.import_id, batch.mode, batch.policy, (drafts, []), skipped
    )
    by_row = {d.row: d for d in drafts}
    writes: list[LeadWrite] = []
    for draft in plan.creates:
        spare = prepared.spare_ids
        lead_id = spare.pop() if spare else new_lead_ids(1)[0]
        plan.outcomes[draft.row] = (Outcome.CREATED, lead_id)
        receipt = _receipt(ctx, plan, draft.row, receipted)
        values = prepared.values[draft.row]
        writes.append(
            LeadWrite(
                "create",
                ctx.owner,
                lead_id,
                draft.key,
                values,
                None,
                ctx.import_id,
                draft.row,
                receipt,
            )  # fmt: skip
        )
    for update in plan.updates:
        writes.append(_update(ctx, update, _receipt(ctx, plan, update.draft.row, receipted)))
    written = {w.row for w in writes}
    for row, (decided, decided_id) in plan.outcomes.items():
        if row not in written:
            rows[row] = (decided, decided_id, plan.row_counts.get(row, {}))
    # a skipped row's key goes to the skip ledger with the row's receipt, all or nothing
    skips = list(plan.skips.items())
    size = repo.max_writes
    for start in range(0, len(skips), size):
        skip_chunk = dict(skips[start : start + size])
        receipts = [_receipt(ctx, plan, row, receipted) for row in skip_chunk.values()]
        repo.record_skips(ctx.owner, ctx.import_id, skip_chunk, [r for r in receipts if r])
    rejected: list[LeadDraft] = []
    for start in range(0, len(writes), size):
        chunk = writes[start : start + size]
        for w, applied in zip(chunk, repo.apply(chunk), strict=True):
            assert w.row is not None
            if applied:
                done, done_id = plan.outcomes[w.row]
                rows[w.row] = (done, done_id, plan.row_counts.get(w.row, {}))
            else:
                rejected.append(by_row[w.row])
    return rejected


def _receipt(ctx: WriteContext, plan: BatchPlan, row: int, receipted: bool) -> RowReceipt | None:
    if not receipted:
        return None
    outcome, lead_id = plan.outcomes[row]
    return RowReceipt(ctx.import_id, row, str(outcome), lead_id, plan.row_counts.get(row, {}))


def _new_values(ctx: WriteContext, d: LeadDraft) -> dict[str, Any]:
    """Every column of a lead made from `d` (a create's LeadWrite values)."""
    return {
        "email": d.email,
        "phone": d.phone,
        "phone_valid": d.phone_valid,
        "first_name": d.first_name,
        "last_name": d.last_name,
        "name": d.name,
        "title": d.title,
        "company": d.company,
        "remarks": d.remarks,
        "opt_in": d.opt_in,
        "interests": d.interests,
        "attributes": d.attributes or None,
        "source": ctx.source,
        "source_file": ctx.source_file,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "import_id": ctx.import_id,
        "import_row": d.row,
        "created_import_id": ctx.import_id,
    }


def _update(ctx: WriteContext, u: Update, receipt: RowReceipt | None) -> LeadWrite:
    row = u.draft.row
    if u.unchanged:  # only the (import, row) stamp moves
        stamp = {"import_id": ctx.import_id, "import_row": row}
        return LeadWrite(
            "stamp", ctx.owner, u.lead_id, u.draft.key, stamp, u.version, ctx.import_id, row,
            receipt,
        )  # fmt: skip
    values = dict(u.changes)
    if "first_name" in values or "last_name" in values:
        values["name"] = u.name
    values.update(
        source_file=ctx.source_file, updated_at=ctx.now, import_id=ctx.import_id, import_row=row
    )
    audit = None
    if u.audited:
        audit = AuditRecord(
            lead_id=u.lead_id,
            action="lead_updated",
            email=u.draft.email,
            previous_source_file=u.previous_source_file,
            new_source_file=ctx.source_file,
            fields_changed=fields_changed(u.changes),
            previous=u.previous,
            batch_id=ctx.batch_id,
            import_id=ctx.import_id,
            row=row,
            timestamp=ctx.now,
        )
    return LeadWrite(
        "update", ctx.owner, u.lead_id, u.draft.key, values, u.version, ctx.import_id, row,
        receipt, audit,
    )  # fmt: skip


def _name_losers(
    rows: dict[int, tuple[str, str | None, Mapping[str, int]]],
    survivors: Sequence[LeadDraft],
    losers: Sequence[LeadDraft],
) -> None:
    """In-batch duplicates get the lead id of their key's surviving row."""
    if not losers:
        return
    by_key = {d.key: rows[d.row][1] for d in survivors if d.key is not None and d.row in rows}
    for loser in losers:
        outcome, known, deltas = rows[loser.row]
        if known is None and loser.key is not None:
            rows[loser.row] = (outcome, by_key.get(loser.key), deltas)
