"""LeadQuery's filters for stores that filter leads in Python (memory, DynamoDB).

SQLite filters in SQL; these functions give the same answers row by row, so every read
model lists alike (tests/contract/test_lead_aggregate.py). Rows are stored lead rows
(snake_case columns)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.search import document, matches, parse_query
from ..ports import LeadQuery

SORTS = {  # LeadQuery.sort -> the column it orders by
    "createdAt": "seq",
    "updatedAt": "updated_at",
    "name": "name",
    "company": "company",
    "email": "email",
    "lastName": "last_name",
}
SEARCHED = ("name", "email", "company", "title", "phone")  # domain.search.document's order
# Case-blind matches fold ASCII letters only (as the SQLite adapter's LIKE and NOCASE do):
# 'É' does not match 'é', on every adapter alike.
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """ASCII letters in lower case, every other character as it is."""
    return text.translate(_ASCII_FOLD)


def passes(row: Mapping[str, Any], query: LeadQuery) -> bool:
    """Whether a lead row passes the query's filters (q, company, optIn, phoneValid,
    source); the owner is the caller's to check."""
    if query.q:
        search = parse_query(query.q, query.region)
        doc = document(*(row[column] for column in SEARCHED))
        if not matches(search, doc, row["phone"]):
            return False
    if query.company and fold(row["company"]) != fold(query.company):
        return False
    for column, flag in (("opt_in", query.opt_in), ("phone_valid", query.phone_valid)):
        if flag is not None and (row[column] is None or bool(row[column]) != flag):
            return False
    return not query.source or row["source"] == query.source


def found_by(
    row: Mapping[str, Any], company: str | None, title: str | None, since: str | None
) -> bool:
    """LeadReadModel.find_leads' filter: company and title as case-blind substrings,
    `since` an ISO time the lead was created at or after."""
    return (
        (not company or fold(company) in fold(row["company"]))
        and (not title or fold(title) in fold(row["title"]))
        and (not since or row["created_at"] >= since)
    )
