"""The OrderStore contract (ports.OrderStore), on every adapter set."""

from __future__ import annotations

from port_adapters import AdapterSet

from leadflow.domain.orders import Order


def order(order_id: str, item: str = "i1", qty: int = 1) -> Order:
    return Order(order_id, item, f"item {item}", qty, "Ann Lee", "ann@acme.io")


def test_saved_once_per_owner_source_order_and_item(adapter_set: AdapterSet) -> None:
    store = adapter_set.orders()
    assert store.save("alice", "api", [order("o1"), order("o1", "i2"), order("o2")], "t1") == 3
    assert store.save("alice", "api", [order("o1"), order("o3")], "t2") == 1, "o1/i1 again"
    assert store.save("alice", "inbox", [order("o1")], "t3") == 1, "another source"
    assert store.save("bob", "api", [order("o1")], "t3") == 1, "another owner"
    assert store.save("alice", "api", [], "t4") == 0
    mine = store.list("alice")
    assert len(mine) == 5
    assert [(o["orderId"], o["itemId"], o["source"]) for o in mine] == [
        ("o1", "i1", "inbox"), ("o3", "i1", "api"), ("o2", "i1", "api"),
        ("o1", "i2", "api"), ("o1", "i1", "api"),
    ]  # fmt: skip
    first = mine[-1]
    assert first == {
        "id": first["id"], "source": "api", "orderId": "o1", "itemId": "i1",
        "itemDesc": "item i1", "qty": 1, "contact": {"name": "Ann Lee", "email": "ann@acme.io"},
        "createdAt": "t1",
    }  # fmt: skip
    assert len(store.list("bob")) == 1 and store.list("carol") == []


def test_the_first_save_of_an_order_wins(adapter_set: AdapterSet) -> None:
    store = adapter_set.orders()
    store.save("alice", "api", [order("o1", qty=2)], "t1")
    store.save("alice", "api", [order("o1", qty=9)], "t2")
    (saved,) = store.list("alice")
    assert (saved["qty"], saved["createdAt"]) == (2, "t1")


def test_pages_by_id(adapter_set: AdapterSet) -> None:
    store = adapter_set.orders()
    store.save("alice", "api", [order(f"o{n}") for n in range(5)], "t")
    page = store.list("alice", limit=2)
    assert [o["orderId"] for o in page] == ["o4", "o3"]
    assert page[0]["id"] > page[1]["id"]
    rest = store.list("alice", limit=10, before=page[-1]["id"])
    assert [o["orderId"] for o in rest] == ["o2", "o1", "o0"]
    assert store.list("alice", before=rest[-1]["id"]) == []
