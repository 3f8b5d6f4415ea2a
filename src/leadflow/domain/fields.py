"""The lead's text fields, in the order the leads pipeline reads them."""

from __future__ import annotations

LEAD_TEXT_FIELDS = (
    "name",
    "firstName",
    "lastName",
    "email",
    "phone",
    "title",
    "company",
    "remarks",
)
