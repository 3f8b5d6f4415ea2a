"""Response models of every API route (OpenAPI documents them; schemathesis and
tests/integration/test_openapi_responses.py check real answers against them).

Each allows fields beyond the declared ones, so that a field added to an answer later is
passed on, never silently dropped by the model. Fields are declared in the order the
answers have always listed them (a model serializes in declaration order), and a route
whose answer leaves a field out declares `response_model_exclude_unset=True`, so that the
JSON stays exactly what it was before the models existed.
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


class IncompleteOrder(_Open):
    index: int = Field(description="Position of the record in the request's list.")
    reasons: list[str]


class OrdersResult(_Open):
    received: int
    stored: int
    duplicates: int
    incomplete: list[IncompleteOrder] = Field(description="{index, reasons} of each record.")


class Redriven(_Open):
    redriven: int


class Purged(_Open):
    purged: int


class DeadLetter(_Open):
    id: int | str = Field(description="Pass in `ids` to redrive or purge only this one.")
    body: dict[str, Any] = Field(description="The message; `kind` says which work it was.")
    receiveCount: int
    lastError: str | None
    owner: str | None
    createdAt: str
    deadAt: str | None


class DeadLetterPage(_Open):
    items: list[DeadLetter]
    depth: int = Field(description="How many dead letters the caller has in all.")


class Contact(_Open):
    name: str | None
    email: str | None


class StoredOrder(_Open):
    id: int
    source: str
    orderId: str
    itemId: str
    itemDesc: str | None
    qty: int
    contact: Contact
    createdAt: str


class OrderPage(_Open):
    items: list[StoredOrder]
    nextBefore: int | None = Field(description="Pass as `before` for the next page.")


class FieldError(_Open):
    field: str
    message: str


class SchemaError(_Open):
    id: int
    source: str
    importId: str | None
    index: int = Field(description="Position of the record in its file or request.")
    record: Any = Field(description="The record as it arrived.")
    errors: list[FieldError] = Field(description="Every failing field.")
    createdAt: str


class SchemaErrorPage(_Open):
    items: list[SchemaError]
    nextBefore: int | None = Field(description="Pass as `before` for the next page.")


class Lead(_Open):
    """The Lead document of SPEC 'Concepts' (leadflow/documents.py builds it)."""

    leadId: str
    owner: str
    firstName: str
    lastName: str
    name: str
    email: str | None
    phone: str | None = Field(description="E.164 when it parsed, else as given.")
    phoneValid: bool | None
    title: str
    company: str
    remarks: str
    optIn: bool | None
    interests: list[Any] | None
    source: str = Field(description="api | upload | inbox | cli")
    sourceFile: str | None
    attributes: dict[str, Any] = Field(description="Input columns no field took, kept.")
    enrichment: dict[str, Any] = Field(description="Per provider: what it added.")
    createdAt: str
    updatedAt: str


class LeadPage(_Open):
    items: list[Lead]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AuditEntry(_Open):
    action: str
    leadId: str
    email: str | None
    previousSourceFile: str | None
    newSourceFile: str | None
    fieldsChanged: list[str]
    previousValues: dict[str, Any]
    batchId: str | None
    importId: str | None
    timestamp: str
    restoredValues: dict[str, Any] | None = Field(
        None, description="Only on `import_undone` entries: the values the undo gave back."
    )


class LeadWithHistory(Lead):
    history: list[AuditEntry] = Field(description="Every write to the lead, oldest first.")


class Progress(_Open):
    totalBatches: int
    completedBatches: int
    totalLeads: int
    processedLeads: int
    percentage: float


class JobMetadata(_Open):
    fileName: str | None
    fileSize: int | None
    startTime: str | None
    estimatedCompletion: str | None


class StatusDocument(_Open):
    """The status document of seed 004 (SPEC 'Status')."""

    uploadId: str
    jobId: str
    status: str = Field(description="uploading|uploaded|processing|completed|error|cancelled")
    stage: str
    progress: Progress
    metadata: JobMetadata
    error: dict[str, Any] | None = Field(description="{message, code, timestamp}")
    summary: dict[str, Any] = Field(description="The counts so far (and `columns`).")
    undo: dict[str, Any] | None
    warnings: list[str]
    createdAt: str
    updatedAt: str
    ttl: int | None = Field(description="Epoch seconds when the document expires.")
    resultUrl: str | None = Field(None, description="Signed link to the CSV result file.")
    resultJsonUrl: str | None = Field(None, description="Signed link to the JSON result.")


class UndoDone(_Open):
    uploadId: str
    state: str
    undoneAt: str
    deleted: int
    restored: int
    conflicts: int
    conflictLeadIds: list[str] = Field(description="Leads later work changed: kept as they are.")


class ChatAnswer(_Open):
    answer: str
    rows: list[dict[str, Any]] | None
    tools: list[str] = Field(description="The query tools the answer used.")


class Health(_Open):
    status: str


class DatabaseState(_Open):
    state: str
    lastError: str | None


class ComponentState(_Open):
    name: str
    state: str
    restarts: int
    lastError: str | None
    lastErrorAt: str | None
    since: str | None


class ProcessState(_Open):
    pid: int
    role: str
    started: str | None
    updated: str | None
    components: list[ComponentState]


class Readiness(_Open):
    status: str = Field(description="ready | not_ready")
    ready: bool
    database: DatabaseState
    processes: list[ProcessState]
