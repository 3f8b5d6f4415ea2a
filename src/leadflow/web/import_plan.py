"""The import page's look-ahead: column suggestions, a preview with each cell's problem,
and a dry run that counts what an import would do before anything is written.

Everything here reuses the leads pipeline (readers, RecordShaper, validate_batch) and the
domain's merge planning (last_occurrences, plan_batch): the preview and the dry run
decide exactly as the job will.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import readers
from ..domain.headers import LEAD_FIELDS, map_headers
from ..domain.lead import LeadDraft, Rejection
from ..domain.merge import ImportMode, MergePolicy, last_occurrences, plan_batch
from ..pipelines.importing import ImportOptions, ImportSpec, validate_batch
from ..pipelines.shaping import RecordShaper
from ..ports import LeadRepository
from ..readers import RecordStream, UnreadableFile, open_records
from ..readers.base import Batch
from ..settings import Settings

# A column mapped to a name that is no lead field is left out of the import: the shaper
# maps it, and no field or attribute reads it. The web app's "don't import".
DONT_IMPORT = "-"
PREVIEW_ROWS = 20
DRY_RUN_MAX_ROWS = 200_000  # a dry run of a bigger file counts its first rows, and says so
_LOOKUP_CHUNK = 2000


@dataclass(slots=True)
class Column:
    header: str
    suggested: str | None  # what the alias table proposes
    chosen: str  # a lead field, "" (kept as an attribute) or DONT_IMPORT


@dataclass(slots=True)
class Cell:
    value: str
    problem: str | None = None


@dataclass(slots=True)
class PreviewRow:
    row: int  # 1-based, as a person counts data rows
    cells: list[Cell]
    rejected: bool
    problem: str | None = None  # a problem of the whole row


@dataclass(slots=True)
class Preview:
    format: str
    columns: list[Column]
    rows: list[PreviewRow]
    warnings: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None  # the sheet the reader read (None: not a workbook, or unknown)


@dataclass(slots=True)
class DryRun:
    received: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # the mode leaves them alone (create-only met an existing lead ...)
    truncated: bool = False  # only the first DRY_RUN_MAX_ROWS rows were counted


def open_stream(
    path: Path,
    batch_rows: int,
    sheet: str | None,
    header_row: int | None,
    settings: Settings | None,
) -> RecordStream:
    """The file's records, read with the chosen sheet and header row and the settings'
    input limits, exactly as the upload job will read them (`readers.read_options`);
    without settings, the readers' default limits."""
    if settings is None:
        options = readers.ReadOptions(header_row=header_row, sheet=sheet)
    else:
        options = readers.read_options(settings, header_row, sheet)
    return open_records(path, batch_rows, options)


def sheet_names(path: Path, fmt: str) -> list[str]:
    """An XLSX file's sheets, for the sheet chooser ([] for other formats)."""
    if fmt != "xlsx":
        return []
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - the reader reports a broken file itself
        return []
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def explicit_mapping(chosen: Mapping[str, str]) -> dict[str, str]:
    """What the job gets: only columns a person mapped to a field or left out."""
    return {h: f for h, f in chosen.items() if f in LEAD_FIELDS or f == DONT_IMPORT}


def _job(options: ImportOptions, stream: RecordStream, file_name: str) -> ImportSpec:
    return ImportSpec(
        options=options,
        import_id=f"dry-run-{uuid.uuid4()}",
        source_file=file_name,
        headers=tuple(stream.headers) if stream.headers is not None else None,
        spreadsheet=stream.format in ("csv", "xlsx"),
        text_only=stream.format == "csv",
    )


def _headers_of(stream: RecordStream, batch: Batch) -> list[str]:
    if stream.headers is not None:
        return list(stream.headers)
    seen: dict[str, None] = {}
    for _, record in batch:
        if isinstance(record, dict):
            seen.update(dict.fromkeys(str(k) for k in record))
    return list(seen)


def build_preview(
    path: Path,
    file_name: str,
    chosen: Mapping[str, str] | None,
    region: str,
    sheet: str | None = None,
    header_row: int | None = None,
    settings: Settings | None = None,
) -> Preview:
    """The first rows as the leads pipeline sees them. UnreadableFile when it cannot."""
    stream = open_stream(path, PREVIEW_ROWS, sheet, header_row, settings)
    batch = next(iter(stream.batches()), [])
    headers = _headers_of(stream, batch)
    explicit = explicit_mapping(chosen or {})
    suggested = map_headers(headers)
    effective = map_headers(headers, explicit)
    columns = [Column(h, suggested.get(h), effective.get(h) or "") for h in headers]
    options = ImportOptions(owner="", mapping=explicit, region=region)
    job = _job(options, stream, file_name)
    drafts, rejections = validate_batch(batch, job, RecordShaper(explicit))
    header_of = {f: h for h, f in effective.items() if f}
    by_row: dict[int, LeadDraft | Rejection] = {d.row: d for d in drafts}
    by_row.update({r.row: r for r in rejections})
    rows: list[PreviewRow] = []
    for index, record in batch:
        values = record if isinstance(record, dict) else {}
        cells = {h: Cell(_text(values.get(h))) for h in headers}
        outcome = by_row.get(index)
        row = PreviewRow(index + 1, [cells[h] for h in headers], isinstance(outcome, Rejection))
        if isinstance(outcome, Rejection):
            for error in outcome.errors:
                column = header_of.get(error.field)
                if column is not None and column in cells:
                    cells[column].problem = error.message
                else:
                    row.problem = f"{error.field}: {error.message}"
            if not isinstance(record, dict):
                row.problem = row.problem or "not a record with fields"
        elif isinstance(outcome, LeadDraft) and outcome.phone_valid is False:
            column = header_of.get("phone")
            if column is not None:
                cells[column].problem = "not a recognizable phone number: kept as given, flagged"
        rows.append(row)
    return Preview(
        stream.format,
        columns,
        rows,
        list(stream.warnings),
        sheet_names(path, stream.format),
        getattr(stream, "sheet_name", None),  # the XLSX reader says which sheet it chose
    )


def _text(value: Any) -> str:
    """A cell as the file says it: JSON values in JSON (true, {"a": 1}), not Python's repr."""
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _shaped(
    stream: RecordStream, job: ImportSpec, shaper: RecordShaper, max_rows: int, more: list[bool]
) -> Iterator[tuple[list[LeadDraft], list[Rejection]]]:
    """Shaped batches of the first `max_rows` rows (about: whole batches); `more` gets
    True when the file has rows after them."""
    batches = iter(stream.batches())
    for batch in batches:
        if job.headers is None and stream.headers is not None:
            job = replace(job, headers=tuple(stream.headers))
        yield validate_batch(batch, job, shaper)
        if stream.rows_read >= max_rows:
            # a file of exactly max_rows rows was counted whole: look for one more batch
            more.append(next(batches, None) is not None)
            return


def dry_run(
    leads: LeadRepository,
    path: Path,
    file_name: str,
    owner: str,
    chosen: Mapping[str, str] | None,
    mode: ImportMode,
    policy: MergePolicy,
    region: str,
    sheet: str | None = None,
    header_row: int | None = None,
    max_rows: int = DRY_RUN_MAX_ROWS,
    settings: Settings | None = None,
) -> DryRun:
    """What importing the file would do, counted against the owner's stored leads.

    Nothing is written: the plan is made over a read of the stored leads
    (LeadRepository.find_by_keys), never applied. Each key counts once (the last
    occurrence in the file wins, the earlier ones are duplicates), as in the job.
    """
    explicit = explicit_mapping(chosen or {})
    options = ImportOptions(owner=owner, mode=mode, policy=policy, mapping=explicit, region=region)
    stream = open_stream(path, 5000, sheet, header_row, settings)
    job = _job(options, stream, file_name)
    result = DryRun()
    drafts: list[LeadDraft] = []
    more: list[bool] = []
    for batch_drafts, rejections in _shaped(stream, job, RecordShaper(explicit), max_rows, more):
        drafts.extend(batch_drafts)
        result.invalid += len(rejections)
    result.valid = len(drafts)
    result.received = result.valid + result.invalid
    result.truncated = any(more)
    survivors, losers = last_occurrences(drafts)
    result.duplicates = len(losers)
    for start in range(0, len(survivors), _LOOKUP_CHUNK):
        chunk = survivors[start : start + _LOOKUP_CHUNK]
        keys = {key for d in chunk if (key := d.key) is not None}
        stored = leads.find_by_keys(owner, keys, job.import_id) if keys else {}
        plan = plan_batch(chunk, stored, job.import_id, mode, policy, (chunk, []))
        result.created += plan.created
        result.skipped += plan.skipped
        result.updated += plan.updated
        result.unchanged += plan.unchanged
    return result


__all__ = [
    "DONT_IMPORT",
    "Column",
    "DryRun",
    "Preview",
    "UnreadableFile",
    "build_preview",
    "dry_run",
    "explicit_mapping",
]
