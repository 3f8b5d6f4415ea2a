"""Orders (seed 003): a record is complete when it has contact-info (name, email) and
order-info (orderId, item-id, qty). Keys match case-blind and across -, _ and camelCase:
`OrderId`, `orderId`, `order_id` and `order-id` are one key (the seed's own example mixes
them). `qty` "2" becomes 2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .emails import InvalidEmail, normalize_email

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


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
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
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
        raw_qty = _text(order, "qty")
        if not raw_qty.isdigit() or int(raw_qty) < 1:
            reasons.append(f"order-info.qty {order.get('qty')!r} is not a whole number above 0")
        else:
            qty = int(raw_qty)
    if reasons:
        return IncompleteOrder(reasons)
    return Order(order_id, item_id, desc, qty, name, email)
