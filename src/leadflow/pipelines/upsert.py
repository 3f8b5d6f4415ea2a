"""The one place leads meet the store: plan a batch with the merge rules, apply it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
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
from ..ports import LeadStore, WriteContext
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
            ("ignored", plan.skipped),
        ):
            counts[name] = counts.get(name, 0) + value
        return counts

    def outcomes_with(self, plan: BatchPlan) -> list[tuple[int, str, str | None]]:
        decided = [
            (row, outcome.value, lead_id) for row, (outcome, lead_id) in plan.outcomes.items()
        ]
        return sorted([*self.outcomes, *decided])


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
    """Upsert one batch, and log its rejections, in one transaction.

    Only what needs the stored leads happens inside the write transaction (and `lock`,
    which several writer processes share): in-batch de-duplication, new ids and the
    rows to insert are prepared before it, so writers hold the database briefly.

    With a `ledger` entry the batch is applied at most once: its counts are recorded in
    the same transaction as its effect, and a batch already in the ledger (a redelivered
    message) writes nothing and returns None.
    """
    if not drafts and not rejections and ledger is None:
        return BatchPlan()
    deduped = last_occurrences(drafts)
    survivors = deduped[0]
    keys = {key for d in survivors if (key := d.key) is not None}
    spare_ids = new_lead_ids(len(survivors))
    prepared = store.prepare_leads(ctx, survivors)
    with lock or nullcontext(), store.unit_of_work() as uow:
        if ledger is not None and not uow.claim_batch(ledger.job_id, ledger.batch_no):
            return None
        uow.log_rejections(ctx, rejections)
        stored = uow.find_by_keys(ctx.owner, keys, ctx.import_id) if keys else {}
        skipped: dict[str, int] = {}
        if mode is not ImportMode.CREATE_AND_UPDATE and keys:
            skipped = uow.find_skips(ctx.owner, ctx.import_id, keys)
        plan = plan_batch(drafts, stored, ctx.import_id, mode, policy, deduped, skipped)
        lead_ids = spare_ids[: len(plan.creates)]
        uow.insert_leads(ctx, plan.creates, lead_ids, prepared)
        uow.apply_updates(ctx, plan.updates)
        if plan.skips:
            uow.record_skips(ctx.owner, ctx.import_id, plan.skips)
        _name_leads(plan, lead_ids, deduped[1])
        if ledger is not None:
            uow.finish_batch(
                ledger.job_id,
                ledger.batch_no,
                ledger.counts_with(plan),
                ledger.outcomes_with(plan),
            )
    return plan


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
