"""Seed 000's opt-in workflow for one request: validate, log failures, dedupe, save."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..domain.lead import LeadDraft, Rejection
from ..domain.optin_schema import check_body, validate_optin_record
from ..ports import LeadStore
from .importing import ImportOptions, PipelineName, store_batch
from .summary import ImportSummary


@dataclass(slots=True)
class OptinResult:
    received: int
    valid: int
    invalid: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    saved: int = 0
    ignored: int = 0
    importId: str = ""  # noqa: N815 - the JSON field name


def run_optin(store: LeadStore, owner: str, body: Any, source: str = "api") -> OptinResult:
    """POST /v1/records: NotAList for a bad body; otherwise the seed's summary."""
    records = check_body(body)
    drafts: list[LeadDraft] = []
    rejections: list[Rejection] = []
    for index, record in enumerate(records):
        result = validate_optin_record(index, record)
        if isinstance(result, LeadDraft):
            drafts.append(result)
        else:
            rejections.append(result)
    summary = ImportSummary(importId=str(uuid.uuid4()))
    options = ImportOptions(owner=owner, pipeline=PipelineName.OPTIN, source=source)
    store_batch(store, options, summary, (drafts, rejections), None)
    return OptinResult(
        received=summary.received,
        valid=summary.valid,
        invalid=[
            {"index": r.row, "errors": [e.as_dict() for e in r.errors]} for r in rejections
        ],
        duplicates=summary.duplicates,
        saved=summary.created + summary.updated,
        ignored=summary.ignored,
        importId=summary.importId,
    )
