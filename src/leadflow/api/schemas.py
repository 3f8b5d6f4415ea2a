"""Response models of the routes whose answers have a fixed shape (OpenAPI documents
them; schemathesis checks every answer against them).

Each allows fields beyond the declared ones, so that a field added to an answer later is
passed on, never silently dropped by the model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class UploadAccepted(_Open):
    uploadId: str = Field(description="Also the job id: poll GET /v1/status/{uploadId}.")
    status: str = Field(description="`uploaded`: the job is queued.")


class ProcessAccepted(_Open):
    jobId: str
    uploadId: str = Field(description="The same id, under the name the status document uses.")


class CancelResult(_Open):
    uploadId: str
    status: str
    message: str


class OrdersResult(_Open):
    received: int
    stored: int
    duplicates: int
    incomplete: list[dict[str, Any]] = Field(description="{index, reasons} of each record.")


class Redriven(_Open):
    redriven: int


class Purged(_Open):
    purged: int


class DeadLetterPage(_Open):
    items: list[dict[str, Any]]
    depth: int


class ItemsBefore(_Open):
    items: list[dict[str, Any]]
    nextBefore: int | None = Field(description="Pass as `before` for the next page.")


class LeadPage(_Open):
    items: list[dict[str, Any]]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page.")
