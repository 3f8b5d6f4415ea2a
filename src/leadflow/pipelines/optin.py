"""Seed 000's opt-in workflow for one request: validate, log failures, dedupe, save."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain.limits import InputLimits
from ..domain.optin_schema import check_body
from .importing import ImportOptions, PipelineName, import_records
from .upsert import WritePorts


@dataclass(slots=True)
class OptinResult:
    received: int
    valid: int
    invalid: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    saved: int = 0
    ignored: int = 0
    importId: str = ""  # noqa: N815 - the JSON field name


def run_optin(
    ports: WritePorts,
    owner: str,
    body: Any,
    source: str = "api",
    limits: InputLimits | None = None,
) -> OptinResult:
    """POST /v1/records: NotAList for a bad body; otherwise the seed's summary.

    A record over one of `limits` is listed as invalid with its reason.
    """
    records = check_body(body)
    options = ImportOptions(owner=owner, pipeline=PipelineName.OPTIN, source=source, limits=limits)
    summary, rejections = import_records(ports, records, options, None)
    return OptinResult(
        received=summary.received,
        valid=summary.valid,
        invalid=[{"index": r.row, "errors": [e.as_dict() for e in r.errors]} for r in rejections],
        duplicates=summary.duplicates,
        # seed 000's response has no `unchanged`: a record stored already is saved
        saved=summary.created + summary.updated + summary.unchanged,
        ignored=summary.ignored,
        importId=summary.importId,
    )
