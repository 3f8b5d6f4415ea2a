"""The one place leads meet the store: plan a batch with the merge rules, apply it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..domain.lead import LeadDraft
from ..domain.merge import BatchPlan, ImportMode, MergePolicy, Outcome, plan_batch
from ..ports import LeadStore, WriteContext


def upsert_drafts(
    store: LeadStore,
    ctx: WriteContext,
    drafts: Sequence[LeadDraft],
    mode: ImportMode = ImportMode.CREATE_AND_UPDATE,
    policy: MergePolicy = MergePolicy.REPLACE,
) -> BatchPlan:
    """Upsert one batch in one transaction; the plan says what happened to each row."""
    if not drafts:
        return BatchPlan()
    with store.unit_of_work() as uow:
        keys = {key for d in drafts if (key := d.key) is not None}
        stored = uow.find_by_keys(ctx.owner, keys) if keys else {}
        plan = plan_batch(drafts, stored, ctx.import_id, mode, policy)
        lead_ids = [str(uuid.uuid4()) for _ in plan.creates]
        uow.insert_leads(ctx, plan.creates, lead_ids)
        uow.apply_updates(ctx, plan.updates)
    for draft, lead_id in zip(plan.creates, lead_ids, strict=True):
        plan.outcomes[draft.row] = (Outcome.CREATED, lead_id)
    return plan
