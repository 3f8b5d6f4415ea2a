"""Inbox files as real tools write them: BOMs, UTF-16, files that are not records."""

from __future__ import annotations

import codecs
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import LiveApi, live_api

from leadflow.bootstrap import inbox_ports
from leadflow.jobs.inbox import Inbox
from real_cases import case


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", inbox_owner="alice") as running:
        yield running


def drop(folder: Path, name: str, data: bytes) -> None:
    tmp = folder / f"{name}.tmp"
    tmp.write_bytes(data)
    os.rename(tmp, folder / name)
    old = time.time() - 1
    os.utime(folder / name, (old, old))


def names(folder: Path) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in folder.iterdir())


def test_excel_unicode_text_lead_file(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    drop(inbox.root / "leads", "export.txt", case("02-excel-unicode-text-utf16.txt").read_bytes())
    inbox.run_once()
    with api.client("alice") as client:
        leads = client.get("/v1/leads").json()["items"]
    assert sorted((lead["firstName"], lead["company"]) for lead in leads) == [
        ("José", "Éclair SARL"),
        ("Sam", "Globex"),
    ]
    assert names(inbox.root / "leads" / "processed") == ["export.txt"]


def test_orders_ndjson_with_a_bom_stores_its_orders(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    order = {
        "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
        "order-info": {"orderId": "4", "item-id": "104", "item-desc": "Four", "qty": "2"},
    }
    drop(inbox.root / "orders", "orders.ndjson", codecs.BOM_UTF8 + json.dumps(order).encode())
    inbox.run_once()
    with api.client("alice") as client:
        orders = client.get("/v1/orders").json()["items"]
    assert [(o["orderId"], o["qty"]) for o in orders] == [("4", 2)]
    assert names(inbox.root / "orders" / "processed") == ["orders.ndjson"]


def test_an_image_dropped_as_leads_is_rejected_with_its_reason(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    drop(inbox.root / "leads", "leads.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    inbox.run_once()
    rejected = inbox.root / "leads" / "rejected"
    assert names(rejected) == ["leads.csv", "leads.csv.reason.txt"]
    reason = next(p for p in rejected.iterdir() if p.name.endswith(".reason.txt"))
    assert "PNG" in reason.read_text()
