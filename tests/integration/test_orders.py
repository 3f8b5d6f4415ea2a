"""Orders (seed 003): complete records stored once, incomplete ones to the DLQ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import LiveApi, assert_envelope, live_api

from leadflow.domain.orders import IncompleteOrder, Order, order_key, parse_order

SEED_003 = {
    "orders": [
        {
            "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
            "order-info": {"OrderId": "1", "item-id": "101", "item-desc": "Item One", "qty": "1"},
        },
        {"order-info": {"orderId": "2", "item-id": "102", "item-desc": "Item Two", "qty": "2"}},
    ]
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data") as running:
        yield running


def test_the_seeds_example_gives_one_order_and_one_dead_letter(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.post("/v1/orders", json=SEED_003)
        assert response.status_code == 200, response.text
        body = response.json()
        orders = client.get("/v1/orders").json()["items"]
        dlq = client.get("/v1/dlq").json()
    assert body["received"] == 2 and body["stored"] == 1 and body["duplicates"] == 0
    assert body["incomplete"] == [{"index": 1, "reasons": ["contact-info is missing"]}]
    (order,) = orders
    assert (order["orderId"], order["itemId"], order["qty"]) == ("1", "101", 1)
    assert order["contact"] == {"name": "Foo Bar", "email": "foobar@test.com"}
    assert dlq["depth"] == 1
    assert dlq["items"][0]["lastError"] == "contact-info is missing"
    assert dlq["items"][0]["body"]["record"] == SEED_003["orders"][1]


def test_the_same_order_twice_is_stored_once(api: LiveApi) -> None:
    with api.client("alice") as client:
        client.post("/v1/orders", json=SEED_003)
        again = client.post("/v1/orders", json=SEED_003).json()
        assert len(client.get("/v1/orders").json()["items"]) == 1
    assert again["stored"] == 0 and again["duplicates"] == 1
    with api.client("bob") as bob:  # another owner's orders are their own
        assert bob.get("/v1/orders").json()["items"] == []


def test_bad_bodies_are_422(api: LiveApi) -> None:
    with api.client("alice") as client:
        for body in ({"orders": []}, {"orders": "x"}, [1], {}):
            assert_envelope(client.post("/v1/orders", json=body), 422, "invalid_body")


@pytest.mark.parametrize("key", ["OrderId", "orderId", "order_id", "order-id", "ORDER ID"])
def test_keys_match_across_spellings(key: str) -> None:
    assert order_key(key) == "orderid"


def test_qty_becomes_an_integer_and_every_reason_is_given() -> None:
    record = {
        "contactInfo": {"name": "A", "email": "a@b.co"},
        "order_info": {"order_id": 7, "itemId": "x", "qty": "2"},
    }
    assert parse_order(record) == Order("7", "x", "", 2, "A", "a@b.co")
    bad = parse_order({"contact-info": {"email": "nope"}, "order-info": {"qty": "two"}})
    assert isinstance(bad, IncompleteOrder)
    assert bad.reasons == [
        "contact-info.name is missing",
        "contact-info.email 'nope' is not a valid email",
        "order-info.orderId is missing",
        "order-info.item-id is missing",
        "order-info.qty 'two' is not a number",
    ]
    assert isinstance(parse_order("not an object"), IncompleteOrder)


QTYS: list[object] = ["1.0", 2, "2", 2.0, "99999999999999999999", 1e30, 1.5, "²", "9" * 4000]


def qty_orders(values: list[object]) -> list[dict[str, object]]:
    return [
        {
            "contact-info": {"name": "Q", "email": "q@test.com"},
            "order-info": {"orderId": f"q{n}", "item-id": "1", "qty": value},
        }
        for n, value in enumerate(values)
    ]


def test_qty_in_any_common_form_is_read_and_the_rest_go_to_the_dlq(api: LiveApi) -> None:
    with api.client("alice") as client:
        response = client.post("/v1/orders", json={"orders": qty_orders(QTYS)})
        assert response.status_code == 200, response.text
        body = response.json()
        orders = client.get("/v1/orders").json()["items"]
        dlq = client.get("/v1/dlq").json()
    assert body["stored"] == 4
    assert sorted((o["orderId"], o["qty"]) for o in orders) == [
        ("q0", 1), ("q1", 2), ("q2", 2), ("q3", 2),
    ]  # fmt: skip
    reasons = {item["index"]: item["reasons"][0] for item in body["incomplete"]}
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "out of range" in reasons[4] and "out of range" in reasons[5]
    assert "not a whole number" in reasons[6] and "not a number" in reasons[7]
    assert "out of range" in reasons[8]
    assert dlq["depth"] == 5
