"""The one place leads meet the store: plan a batch with the merge rules, apply it."""

from __future__ import annotations

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
    last_occurrences,
    plan_batch,
)
from ..ports import LeadStore, LeadUnitOfWork, WriteContext
from .ids import new_lead_ids


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A batch of a job, and the counts it has before its upsert (received, invalid ...)."""

    job_id: str
    batch_no: int
    counts: Mapping[str, int]
    outcomes: Sequence[tuple[int, str, str | None]] = ()  # rows decided before the upsert

    def counts_with(self, plan: BatchPlan) -> dict[str, int]:
        counts = dict(self.counts)
        for name, value in (
            ("duplicates", plan.duplicates),
            ("created", plan.created),
            ("updated", plan.updated),
            ("unchanged", plan.unchanged),
            ("ignored", plan.skipped),
        ):
            counts[name] = counts.get(name, 0) + value
        return counts

    def outcomes_with(self, plan: BatchPlan) -> list[tuple[int, str, str | None]]:
        # an Outcome is a str already (StrEnum): no .value lookup per row
        decided = [(row, outcome, lead_id) for row, (outcome, lead_id) in plan.outcomes.items()]
        return sorted([*self.outcomes, *decided])


@dataclass(slots=True)
class BatchWrite:
    """One batch, ready to be written: what needs no transaction is done already."""

    ctx: WriteContext
    drafts: Sequence[LeadDraft]
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE
    policy: MergePolicy = MergePolicy.REPLACE
    rejections: Sequence[Rejection] = ()
    ledger: LedgerEntry | None = None
    deduped: tuple[list[LeadDraft], list[LeadDraft]] = ([], [])
    keys: set[str] = field(default_factory=set)
    spare_ids: list[str] = field(default_factory=list)
    prepared: Any = None
    recorded: bool = True  # False: the ledger entry only gathers counts, nothing is claimed
    plan: BatchPlan | None = None  # what apply() decided, once it has run
    new_ids: list[str] | None = None  # the plan's new leads' ids, until finish() names them

    def entry_counts(self, plan: BatchPlan) -> dict[str, int]:
        """The batch's counts: those decided before the write, plus the plan's."""
        return (self.ledger or LedgerEntry("", -1, {})).counts_with(plan)

    def prepare(self, store: LeadStore) -> BatchWrite:
        """In-batch de-duplication, new ids, the rows to insert."""
        self.deduped = last_occurrences(self.drafts)
        survivors = self.deduped[0]
        self.keys = {key for d in survivors if (key := d.key) is not None}
        self.spare_ids = new_lead_ids(len(survivors))
        self.prepared = store.prepare_leads(self.ctx, survivors)
        return self

    def apply(self, uow: LeadUnitOfWork) -> BatchPlan | None:
        """Write the batch inside a transaction; None when the ledger has it already."""
        ctx, keys = self.ctx, self.keys
        ledger = self.ledger if self.recorded else None
        if ledger is not None and not uow.claim_batch(ledger.job_id, ledger.batch_no):
            return None
        uow.log_rejections(ctx, self.rejections)
        stored = uow.find_by_keys(ctx.owner, keys, ctx.import_id) if keys else {}
        skipped: dict[str, int] = {}
        if self.mode is not ImportMode.CREATE_AND_UPDATE and keys:
            skipped = uow.find_skips(ctx.owner, ctx.import_id, keys)
        plan = plan_batch(
            self.drafts, stored, ctx.import_id, self.mode, self.policy, self.deduped, skipped
        )
        lead_ids = self.spare_ids[: len(plan.creates)]
        uow.insert_leads(ctx, plan.creates, lead_ids, self.prepared)
        uow.apply_updates(ctx, plan.updates)
        if plan.skips:
            uow.record_skips(ctx.owner, ctx.import_id, plan.skips)
        self.plan = plan
        if ledger is None:  # nothing in the transaction needs the lead ids of the outcomes
            self.new_ids = lead_ids  # named by finish(), once the write lock is released
            return plan
        _name_leads(plan, lead_ids, self.deduped[1])
        uow.finish_batch(
            ledger.job_id, ledger.batch_no, ledger.counts_with(plan), ledger.outcomes_with(plan)
        )
        return plan

    def finish(self) -> BatchPlan | None:
        """The applied plan, each row's outcome with its lead id (after the transaction)."""
        if self.plan is not None and self.new_ids is not None:
            _name_leads(self.plan, self.new_ids, self.deduped[1])
            self.new_ids = None
        return self.plan


def upsert_batches(
    store: LeadStore,
    writes: Sequence[BatchWrite],
    lock: AbstractContextManager[Any] | None = None,
) -> list[BatchPlan | None]:
    """Write several batches in one transaction, in order (each sees the ones before).

    Only what needs the stored leads happens inside the write transaction (and `lock`,
    which several writer processes share), so writers hold the database briefly. With a
    ledger entry a batch is applied at most once: its counts are recorded in the same
    transaction as its effect, and a batch the ledger has already (a redelivered
    message) writes nothing and gives None.
    """
    for write in writes:
        write.prepare(store)
    with lock or nullcontext(), store.unit_of_work() as uow:
        plans = [write.apply(uow) for write in writes]
    return [
        None if plan is None else write.finish() for write, plan in zip(writes, plans, strict=True)
    ]


def upsert_drafts(
    store: LeadStore,
    ctx: WriteContext,
    drafts: Sequence[LeadDraft],
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE,
    policy: MergePolicy = MergePolicy.REPLACE,
    rejections: Sequence[Rejection] = (),
    lock: AbstractContextManager[Any] | None = None,
    ledger: LedgerEntry | None = None,
) -> BatchPlan | None:
    """Upsert one batch and log its rejections, in one transaction (see upsert_batches)."""
    write = BatchWrite(ctx, drafts, mode, policy, rejections, ledger)
    return upsert_batches(store, [write], lock)[0]


def _name_leads(plan: BatchPlan, lead_ids: Sequence[str], losers: Sequence[LeadDraft]) -> None:
    """Give every row's outcome its lead id: new leads', and the winner's for in-batch
    duplicates."""
    by_key: dict[str, str] = {}
    for draft, lead_id in zip(plan.creates, lead_ids, strict=True):
        plan.outcomes[draft.row] = (Outcome.CREATED, lead_id)
        if draft.key is not None:
            by_key[draft.key] = lead_id
    for update in plan.updates:
        if update.draft.key is not None:
            by_key[update.draft.key] = update.lead_id
    for loser in losers:
        outcome, known = plan.outcomes[loser.row]
        if known is None and loser.key is not None:
            plan.outcomes[loser.row] = (outcome, by_key.get(loser.key))
