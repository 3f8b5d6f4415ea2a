"""Leads: the table (search, filters, sort, cursor pages, columns), a lead, export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from ...api.routes.export import export_response
from ...ports import BadCursor, LeadQuery
from ..pages import WebServices, WebUser, render

router = APIRouter(include_in_schema=False)
# (key, header, sort key or None): the table's columns, in order
COLUMNS = (
    ("name", "Name", "name"),
    ("email", "Email", "email"),
    ("company", "Company", "company"),
    ("title", "Title", None),
    ("phone", "Phone", None),
    ("optIn", "Opt-in", None),
    ("source", "Source", None),
    ("sourceFile", "File", None),
    ("createdAt", "Created", "createdAt"),
    ("updatedAt", "Updated", "updatedAt"),
)
DEFAULT_COLUMNS = ("name", "email", "company", "title", "phone", "createdAt")
SORTS = {"createdAt", "updatedAt", "name", "company", "email", "lastName"}
PAGE_SIZE = 50
PAGE_SIZES = (10, 25, 50, 100)


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def lead_query(params: QueryParams) -> tuple[LeadQuery, dict[str, Any]]:
    """The LeadQuery of the page's query string, and the filters as the form shows them."""
    per = params.get("per") or ""
    limit = int(per) if per.isdigit() and int(per) in PAGE_SIZES else PAGE_SIZE
    text = {k: (params.get(k) or "").strip()[:200] for k in ("q", "company", "source")}
    source = text["source"] if text["source"] in ("api", "upload", "inbox", "cli") else ""
    sort = params.get("sort") or "-createdAt"
    if sort.lstrip("-") not in SORTS:
        sort = "-createdAt"
    opt_in, phone_valid = params.get("optIn") or "", params.get("phoneValid") or ""
    query = LeadQuery(
        q=text["q"] or None,
        company=text["company"] or None,
        source=source or None,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
        cursor=params.get("cursor") or None,
        limit=limit,
        opt_in=_flag(opt_in),
        phone_valid=_flag(phone_valid),
    )
    filters = {
        "q": text["q"],
        "company": text["company"],
        "source": source,
        "optIn": opt_in if opt_in in ("yes", "no") else "",
        "phoneValid": phone_valid if phone_valid in ("yes", "no") else "",
        "sort": sort,
        "per": limit if limit != PAGE_SIZE else "",
    }
    return query, filters


@router.get("/leads")
def leads_page(request: Request, user: WebUser, services: WebServices) -> Response:
    """One page of the user's leads: never more than PAGE_SIZE rows are read."""
    query, filters = lead_query(request.query_params)
    chosen = [c for c in request.query_params.getlist("col") if c in {k for k, _, _ in COLUMNS}]
    shown = [c for c in COLUMNS if c[0] in (chosen or DEFAULT_COLUMNS)]
    error = None
    try:
        items, next_cursor = services.lead_reads.list_leads(user, query)
    except BadCursor:
        items, next_cursor, error = [], None, "that page link has expired; start again"
    context = {
        "leads": items,
        "next_cursor": next_cursor,
        "filters": filters,
        "columns": COLUMNS,
        "shown": shown,
        "chosen": [c[0] for c in shown],
        "paged": query.cursor is not None,
        "error": error,
        "page_sizes": PAGE_SIZES,
        "page_size": query.limit,
    }
    return render(request, "leads.html", context, user)


@router.get("/leads/export.{fmt}")
def export(fmt: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """The current filter's leads as CSV or XLSX, written by the API's export code
    (control characters removed, formulas defused, CSV with a BOM, never truncated)."""
    if fmt not in ("csv", "xlsx"):
        return render(request, "_message.html", {"message": "export as csv or xlsx"}, user, 404)
    query, _ = lead_query(request.query_params)
    return export_response(services.lead_reads, user, fmt, bom=True, query=query)


@router.get("/leads/{lead_id}")
def lead_page(lead_id: str, request: Request, user: WebUser, services: WebServices) -> Response:
    """A lead: its fields, attributes, enrichment and audit history."""
    lead = services.lead_reads.get_lead(user, lead_id)
    if lead is None:
        return render(request, "_message.html", {"message": "no such lead"}, user, 404)
    history = services.lead_reads.lead_history(user, lead_id)
    return render(request, "lead.html", {"lead": lead, "history": history}, user)
