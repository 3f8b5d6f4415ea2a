"""Map spreadsheet headers to lead fields, the way HubSpot and EspoCRM importers do."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .lead import LEAD_TEXT_FIELDS

LEAD_FIELDS = (*LEAD_TEXT_FIELDS, "optIn", "interests")

_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "contactname", "contact", "leadname", "personname"),
    "firstName": ("firstname", "first", "fname", "givenname", "forename", "prenom", "vorname"),
    "lastName": ("lastname", "last", "lname", "surname", "familyname", "nachname"),
    "email": (
        "email", "emailaddress", "mail", "emailid", "contactemail", "workemail",
        "businessemail", "primaryemail", "courriel",
    ),
    "phone": (
        "phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell",
        "cellphone", "workphone", "businessphone", "primaryphone", "contactnumber",
    ),
    "title": ("title", "jobtitle", "position", "role", "designation", "jobrole"),
    "company": (
        "company", "companyname", "organization", "organisation", "account",
        "accountname", "employer", "business", "firm",
    ),
    "remarks": ("remarks", "notes", "note", "comments", "comment", "description"),
    "optIn": ("optin", "marketingoptin", "consent", "subscribed", "emailoptin"),
    "interests": ("interests", "interest", "tags", "topics"),
}  # fmt: skip

_LOOKUP = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(header: str) -> str:
    """'E-mail Address ' -> 'emailaddress': case, spaces and punctuation do not matter."""
    return _NOT_ALNUM.sub("", header.strip().lower())


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
                    f"fields are {', '.join(LEAD_FIELDS)}"
                )
            mapping[source.strip()] = field
    return mapping


def resolve_field(name: str) -> str | None:
    """A lead field name from a field name or any alias of it."""
    if name in LEAD_FIELDS:
        return name
    return _LOOKUP.get(header_key(name))


def map_headers(
    headers: Iterable[str],
    explicit: Mapping[str, str] | None = None,
    taken: Iterable[str] = (),
) -> dict[str, str | None]:
    """Each header -> its lead field, or None when it goes to `attributes`.

    An explicit mapping wins; otherwise the first header that maps to a field takes it,
    and a later header that maps to the same field (or one in `taken`) is kept as an
    attribute.
    """
    explicit = explicit or {}
    explicit_keys = {header_key(k): v for k, v in explicit.items()}
    used: set[str] = set(explicit_keys.values()) | set(taken)
    result: dict[str, str | None] = {}
    for header in headers:
        field = explicit_keys.get(header_key(header))
        if field is None:
            guess = _LOOKUP.get(header_key(header))
            if guess is not None and guess not in used:
                field = guess
                used.add(guess)
        result[header] = field
    return result
