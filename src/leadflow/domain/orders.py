"""Orders (seed 003): a record is complete when it has contact-info (name, email) and
order-info (orderId, item-id, qty). Keys match case-blind and across -, _ and camelCase:
`OrderId`, `orderId`, `order_id` and `order-id` are one key (the seed's own example mixes
them). `qty` is a whole number in any common form (2, "2", 2.0, "1.0") from 1 to MAX_QTY;
anything else makes the record incomplete with the reason."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .emails import InvalidEmail, normalize_email

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# ASCII digits only: "²" and other Unicode digits are not quantities
_DECIMAL = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]*))?", re.ASCII)
MAX_QTY = 1_000_000_000  # far above any real order line; keeps qty a 64-bit integer


def order_key(key: str) -> str:
    """'OrderId', 'order_id', 'order-id' -> 'orderid'."""
    return _NOT_ALNUM.sub("", key.lower())


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    item_id: str
    item_desc: str
    qty: int
    contact_name: str
    contact_email: str


@dataclass(frozen=True, slots=True)
class IncompleteOrder:
    reasons: list[str]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _section(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    for key, value in record.items():
        if order_key(str(key)) == name and isinstance(value, dict):
            return {order_key(str(k)): v for k, v in value.items()}
    return None


def _text(section: dict[str, Any], key: str) -> str:
    value = section.get(key)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)  # never through float(): a 400-digit id would overflow it
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value.strip() if isinstance(value, str) else ""


def parse_order(record: Any) -> Order | IncompleteOrder:
    """A complete Order, or every reason the record is not one."""
    if not isinstance(record, dict):
        return IncompleteOrder(["the record is not an object"])
    reasons: list[str] = []
    contact = _section(record, "contactinfo")
    order = _section(record, "orderinfo")
    name = email = ""
    if contact is None:
        reasons.append("contact-info is missing")
    else:
        name = _text(contact, "name")
        if not name:
            reasons.append("contact-info.name is missing")
        raw_email = _text(contact, "email")
        try:
            email = normalize_email(raw_email) or ""
        except InvalidEmail:
            reasons.append(f"contact-info.email {raw_email!r} is not a valid email")
        else:
            if not email:
                reasons.append("contact-info.email is missing")
    order_id = item_id = desc = ""
    qty = 0
    if order is None:
        reasons.append("order-info is missing")
    else:
        order_id, item_id = _text(order, "orderid"), _text(order, "itemid")
        desc = _text(order, "itemdesc")
        if not order_id:
            reasons.append("order-info.orderId is missing")
        if not item_id:
            reasons.append("order-info.item-id is missing")
        parsed = parse_qty(order.get("qty"))
        if isinstance(parsed, str):
            reasons.append(f"order-info.qty {parsed}")
        else:
            qty = parsed
    if reasons:
        return IncompleteOrder(reasons)
    return Order(order_id, item_id, desc, qty, name, email)


def parse_qty(value: Any) -> int | str:
    """The quantity as an int from 1 to MAX_QTY, or why it is not one.

    Accepts ints, integral floats and decimal text with an all-zero fraction ("2",
    " 2 ", "1.0", "+3"); the reason (a phrase completing "order-info.qty ...") names
    the value as given, cut to 40 characters.
    """
    shown = _shown(value)
    if value is None or value == "":
        return "is missing"
    if isinstance(value, bool):
        return f"{shown} is not a number"
    if isinstance(value, float):
        if math.isnan(value):
            return f"{shown} is not a number"
        if math.isinf(value) or abs(value) > MAX_QTY:
            return _out_of_range(shown)
        if not value.is_integer():
            return f"{shown} is not a whole number"
        value = int(value)
    if isinstance(value, int):
        return value if 1 <= value <= MAX_QTY else _out_of_range(shown)
    if not isinstance(value, str):
        return f"{shown} is not a number"
    match = _DECIMAL.fullmatch(value.strip())
    if match is None:
        return f"{shown} is not a number"
    sign, digits, fraction = match.groups()
    if fraction and fraction.strip("0"):
        return f"{shown} is not a whole number"
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(MAX_QTY)):  # before int(): thousands of digits stay cheap
        return _out_of_range(shown)
    number = -int(digits) if sign == "-" else int(digits)
    return number if 1 <= number <= MAX_QTY else _out_of_range(shown)


def _out_of_range(shown: str) -> str:
    return f"{shown} is out of range (a whole number from 1 to {MAX_QTY:,})"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
