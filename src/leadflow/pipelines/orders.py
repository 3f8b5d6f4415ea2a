"""The orders pipeline (seed 003): check each record, store the complete ones once, send
the incomplete ones to the dead-letter queue with their reasons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..clock import utc_now
from ..domain.orders import IncompleteOrder, Order, parse_order
from ..ports import DeadLetters, OrderStore
from ..readers.json_reader import InvalidLine

CONCURRENCY = 8  # records of one file are checked concurrently, with this bound


@dataclass
class OrdersResult:
    received: int
    stored: int = 0
    duplicates: int = 0
    incomplete: list[dict[str, Any]] = field(default_factory=list)


def run_orders(
    store: OrderStore, dlq: DeadLetters, owner: str, records: Sequence[Any], source: str
) -> OrdersResult:
    """Complete orders to the store (idempotently), incomplete ones to the DLQ."""
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        checked = list(pool.map(parse_order, records))
    complete = [order for order in checked if isinstance(order, Order)]
    result = OrdersResult(received=len(records))
    for index, (record, outcome) in enumerate(zip(records, checked, strict=True)):
        if isinstance(record, InvalidLine):  # a file's line that is not JSON: keep its text
            body = {"kind": "order", "source": source, "index": index, "text": record.text}
            dlq.add([body], owner, record.error)
            result.incomplete.append({"index": index, "reasons": [record.error]})
        elif isinstance(outcome, IncompleteOrder):
            body = {"kind": "order", "source": source, "index": index, "record": _portable(record)}
            dlq.add([body], owner, outcome.reason)
            result.incomplete.append({"index": index, "reasons": outcome.reasons})
    result.stored = store.save(owner, source, complete, utc_now())
    result.duplicates = len(complete) - result.stored
    return result


def _portable(record: Any) -> Any:
    """The record as JSON can keep it: spreadsheet dates and other values become text."""
    return json.loads(json.dumps(record, default=str))
