"""Map spreadsheet headers to lead fields, the way HubSpot and EspoCRM importers do.

The aliases are data (header_aliases.json beside this module): the exports of Google
Contacts, Outlook, LinkedIn, HubSpot, Salesforce, Mailchimp, Zoho and Pipedrive, and
headers in English, French, German, Spanish, Portuguese, Italian and Dutch. Headers are
compared folded: case, accents, spaces and punctuation do not matter.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from .fields import LEAD_TEXT_FIELDS

LEAD_FIELDS = (*LEAD_TEXT_FIELDS, "optIn", "interests")
# Mapped columns that are not lead fields: their values land in `attributes` under
# these names (attributes.salutation, attributes.nameSuffix).
NAME_PART_FIELDS = ("salutation", "nameSuffix")
MAPPABLE_FIELDS = (*LEAD_FIELDS, *NAME_PART_FIELDS)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """'E-mail Address ' -> 'emailaddress', 'Prénom' -> 'prenom': case, accents, spaces
    and punctuation do not matter."""
    folded = unicodedata.normalize("NFKD", header.strip().casefold())
    if not folded.isascii():
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", folded)


def _load() -> tuple[dict[str, str], frozenset[str], frozenset[str]]:
    text = resources.files(__package__).joinpath("header_aliases.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    lookup: dict[str, str] = {}
    for field, aliases in data["fields"].items():
        if field not in MAPPABLE_FIELDS:
            raise ValueError(f"header_aliases.json: unknown field {field!r}")
        for alias in (field, *aliases):
            key = header_key(alias)
            if lookup.setdefault(key, field) != field:
                raise ValueError(f"header_aliases.json: {alias!r} maps to two fields")
    courtesy = frozenset(header_key(h) for h in data["courtesyTitleBesideJobTitle"])
    values = frozenset(header_key(v) for v in data["courtesyTitleValues"])
    return lookup, courtesy, values


_LOOKUP, _COURTESY_HEADERS, COURTESY_TITLES = _load()


@lru_cache(maxsize=4096)  # a file repeats few titles: each is folded once
def is_courtesy_title(value: str) -> bool:
    """True for a salutation such as 'Dr.', 'Mrs', 'Mme', 'Herr' (never a job title)."""
    return header_key(value) in COURTESY_TITLES if len(value) <= 12 else False


def parse_mapping(specs: Iterable[str]) -> dict[str, str]:
    """['E-mail=email', 'Org=company'] -> {'E-mail': 'email', 'Org': 'company'}."""
    mapping: dict[str, str] = {}
    for spec in specs:
        for part in spec.split(","):
            if not part.strip():
                continue
            source, sep, target = part.partition("=")
            if not sep or not source.strip() or not target.strip():
                raise ValueError(f"mapping {part!r} must look like 'Column=field'")
            field = resolve_field(target.strip())
            if field is None:
                raise ValueError(
                    f"mapping {part!r}: unknown field {target.strip()!r}; "
                    f"fields are {', '.join(MAPPABLE_FIELDS)}"
                )
            mapping[source.strip()] = field
    return mapping


def resolve_field(name: str) -> str | None:
    """A field name (one of MAPPABLE_FIELDS) from a field name or any alias of it."""
    if name in MAPPABLE_FIELDS:
        return name
    return _LOOKUP.get(header_key(name))


def map_headers(
    headers: Iterable[str],
    explicit: Mapping[str, str] | None = None,
    taken: Iterable[str] = (),
) -> dict[str, str | None]:
    """Each header -> its field (MAPPABLE_FIELDS), or None when it goes to `attributes`.

    An explicit mapping wins; otherwise the first header that maps to a field takes it,
    and a later header that maps to the same field (or one in `taken`) is kept as an
    attribute. A bare 'Title' beside a job-title column (Outlook's export) is the
    courtesy title: it maps to salutation.
    """
    headers = list(headers)
    explicit = explicit or {}
    explicit_keys = {header_key(k): v for k, v in explicit.items()}
    used: set[str] = set(explicit_keys.values()) | set(taken)
    keys = [header_key(h) for h in headers]
    job_title_beside = (
        any(_LOOKUP.get(k) == "title" and k not in _COURTESY_HEADERS for k in keys)
        or "title" in explicit_keys.values()
    )
    result: dict[str, str | None] = {}
    for header, key in zip(headers, keys, strict=True):
        field = explicit_keys.get(key)
        if field is None:
            guess = _LOOKUP.get(key)
            if guess == "title" and key in _COURTESY_HEADERS and job_title_beside:
                guess = "salutation"
            if guess is not None and guess not in used:
                field = guess
                used.add(guess)
        result[header] = field
    return result
