"""The inbox of a running service never keeps a file stuck and never dies: every file ends
in processed/ (bad orders lines in the DLQ) or rejected/ (with its reason), whatever fails.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from api_server import LiveApi, live_api
from failing_db import UNWRITABLE, inject

from leadflow.bootstrap import runtime_ports
from leadflow.domain.orders import Order
from leadflow.jobs.runtime import build_runtime
from leadflow.jobs.supervisor import Supervisor

CASES = Path(__file__).resolve().parents[2].parent / "shared" / "cases" / "real-files"
FAST = {"restart_backoff": 0.05, "restart_backoff_max": 0.2, "inbox_recover_seconds": 0.2}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveApi]:
    with live_api(tmp_path / "data", inbox_owner="alice", **FAST) as running:
        yield running


@pytest.fixture
def running(api: LiveApi) -> Iterator[Supervisor]:
    """The service's loops (worker, inbox, notifier, sweeper), supervised."""
    inject(api.services)
    stop = threading.Event()
    runtime = build_runtime(runtime_ports(api.services), stop, 1, "test")
    threads = runtime.start()
    try:
        wait_for(
            lambda: all(c["state"] == "running" for c in runtime.snapshot()["components"]),
            "every loop is up",
        )
        yield runtime
    finally:
        UNWRITABLE.clear()
        stop.set()
        for thread in threads:
            thread.join(10)


def inbox(api: LiveApi, kind: str) -> Path:
    return api.services.settings.data_dir / "inbox" / kind


def drop(folder: Path, name: str, content: bytes | str) -> None:
    tmp = folder / f"{name}.tmp"
    tmp.write_bytes(content.encode() if isinstance(content, str) else content)
    os.rename(tmp, folder / name)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.02)


def ended(folder: Path, name: str) -> str | None:
    """'processed' or 'rejected' once the dropped file is there (named <stamp>-<name>)."""
    for where in ("processed", "rejected"):
        if any(p.name.split("-", 1)[1] == name for p in (folder / where).iterdir()):
            return where
    return None


def reason(folder: Path, name: str) -> str:
    (path,) = (folder / "rejected").glob(f"*-{name}.reason.txt")
    return path.read_text()


def stuck(api: LiveApi) -> list[Path]:
    root = api.services.settings.data_dir / "inbox"
    return [p for p in root.glob("*/processing/**/*") if p.is_file()]


def component(runtime: Supervisor, name: str) -> dict[str, Any]:
    (found,) = [c for c in runtime.snapshot()["components"] if c["name"] == name]
    return found


def test_case_12_a_cut_off_orders_line_goes_to_the_dlq(api: LiveApi, running: Supervisor) -> None:
    folder = inbox(api, "orders")
    shutil.copy(CASES / "12-orders-truncated-line.ndjson", folder / "12.ndjson.tmp")
    os.rename(folder / "12.ndjson.tmp", folder / "12-orders-truncated-line.ndjson")
    wait_for(lambda: ended(folder, "12-orders-truncated-line.ndjson") is not None, "the file")
    assert ended(folder, "12-orders-truncated-line.ndjson") == "processed"
    assert stuck(api) == []
    with api.client("alice") as client:
        orders = client.get("/v1/orders").json()["items"]
        dlq = client.get("/v1/dlq").json()
    assert [(o["orderId"], o["qty"], o["contact"]["email"]) for o in orders] == [
        ("4", 1, "bo.lee@example.com")
    ]
    (letter,) = dlq["items"]
    broken = (CASES / "12-orders-truncated-line.ndjson").read_text().splitlines()[-1]
    assert letter["body"]["text"] == broken.strip()
    assert letter["body"]["source"] == "12-orders-truncated-line.ndjson"
    assert "not valid JSON" in letter["lastError"]
    assert component(running, "inbox")["state"] == "running"


def test_qty_in_any_common_form_through_the_inbox(api: LiveApi, running: Supervisor) -> None:
    values: list[Any] = ["1.0", 2, "2", 2.0, "99999999999999999999", 1e30, 1.5, "²"]
    lines = [
        json.dumps(
            {
                "contact-info": {"name": "Q", "email": "q@test.com"},
                "order-info": {"orderId": f"q{n}", "item-id": "1", "qty": value},
            },
            ensure_ascii=False,
        )
        for n, value in enumerate(values)
    ]
    # the raw JSON number, not a float that already lost it
    lines.append(lines[0].replace('"q0"', '"q8"').replace('"1.0"', "99999999999999999999"))
    folder = inbox(api, "orders")
    drop(folder, "qty.ndjson", "\n".join(lines) + "\n")
    drop(inbox(api, "orders"), "after.json", json.dumps({"orders": json.loads(f"[{lines[1]}]")}))
    wait_for(lambda: ended(folder, "after.json") is not None, "both files")
    assert ended(folder, "qty.ndjson") == "processed" and ended(folder, "after.json") == "processed"
    with api.client("alice") as client:
        orders = client.get("/v1/orders").json()["items"]
        dlq = client.get("/v1/dlq", params={"limit": 100}).json()["items"]
    assert sorted((o["orderId"], o["qty"]) for o in orders if o["source"] == "qty.ndjson") == [
        ("q0", 1), ("q1", 2), ("q2", 2), ("q3", 2),
    ]  # fmt: skip
    reasons = {d["body"]["record"]["order-info"]["orderId"]: d["lastError"] for d in dlq}
    assert sorted(reasons) == ["q4", "q5", "q6", "q7", "q8"]
    assert all("out of range" in reasons[k] for k in ("q4", "q5", "q8"))
    assert "not a whole number" in reasons["q6"] and "not a number" in reasons["q7"]


class BrokenOrders:
    """An order store whose save fails with `error` for the files named in `names`."""

    def __init__(self, real: Any, names: set[str], error: Exception) -> None:
        self.real, self.names, self.error = real, names, error
        self.calls = 0

    def save(self, owner: str, source: str, orders: Sequence[Order], now: str) -> int:
        if source in self.names:
            self.calls += 1
            raise self.error
        return int(self.real.save(owner, source, orders, now))

    def list(self, *args: Any) -> Any:
        return self.real.list(*args)


GOOD_ORDER = {
    "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
    "order-info": {"OrderId": "1", "item-id": "101", "qty": "1"},
}


@pytest.fixture
def bug_orders(api: LiveApi) -> BrokenOrders:
    """An order store with a bug, in place before the loops start (they get their ports then)."""
    broken = BrokenOrders(api.services.orders, {"bug.json"}, KeyError("a bug in the pipeline"))
    api.services.orders = broken  # type: ignore[assignment]
    return broken


@pytest.fixture
def poison_orders(api: LiveApi) -> BrokenOrders:
    broken = BrokenOrders(
        api.services.orders, {"poison.json"}, sqlite3.OperationalError("too many SQL variables")
    )
    api.services.orders = broken  # type: ignore[assignment]
    return broken


def test_a_failure_of_any_kind_rejects_the_file_with_a_reason_named_as_dropped(
    api: LiveApi, bug_orders: BrokenOrders, running: Supervisor
) -> None:
    folder = inbox(api, "orders")
    drop(folder, "bug.json", json.dumps({"orders": [GOOD_ORDER]}))
    drop(folder, "broken.json", '{"orders": [')
    drop(folder, "bom.ndjson", b"\xef\xbb\xbf" + json.dumps(GOOD_ORDER).encode() + b"\n")
    drop(folder, "noise.bin", bytes(range(256)) * 4)
    names = ["bug.json", "broken.json", "bom.ndjson", "noise.bin"]
    wait_for(lambda: all(ended(folder, n) for n in names), "every file")
    assert stuck(api) == []
    assert ended(folder, "bug.json") == "rejected"
    assert "KeyError" in reason(folder, "bug.json") and "a bug" in reason(folder, "bug.json")
    assert ended(folder, "broken.json") == "rejected"
    text = reason(folder, "broken.json")
    assert text.startswith("broken.json ") and f"{os.getpid()}" not in text
    assert ended(folder, "bom.ndjson") == "processed"  # at worst its line in the DLQ
    assert ended(folder, "noise.bin") is not None
    assert component(running, "inbox")["state"] == "running"


def test_a_poison_file_is_rejected_and_never_blocks_the_others(
    api: LiveApi, poison_orders: BrokenOrders, running: Supervisor
) -> None:
    broken = poison_orders
    folder = inbox(api, "orders")
    drop(folder, "poison.json", json.dumps({"orders": [GOOD_ORDER]}))
    wait_for(lambda: broken.calls >= 2, "two tries of the poison file")
    for n in range(3):
        drop(folder, f"good-{n}.json", json.dumps({"orders": [GOOD_ORDER]}))
    wait_for(lambda: ended(folder, "poison.json") is not None, "the poison file")
    assert all(ended(folder, f"good-{n}.json") == "processed" for n in range(3))
    assert ended(folder, "poison.json") == "rejected"
    assert "too many SQL variables" in reason(folder, "poison.json")
    assert stuck(api) == []
    wait_for(lambda: component(running, "inbox")["state"] == "running", "the inbox is up")


def test_an_unwritable_database_delays_files_and_never_kills_the_inbox(
    api: LiveApi, running: Supervisor
) -> None:
    folder = inbox(api, "orders")
    UNWRITABLE.set()  # a failed commit: "disk I/O error"
    drop(folder, "during.json", json.dumps({"orders": [GOOD_ORDER]}))
    wait_for(lambda: component(running, "inbox")["restarts"] >= 5, "five restarts")
    inbox_state = component(running, "inbox")
    assert inbox_state["state"] == "restarting"
    assert "disk I/O error" in inbox_state["lastError"]
    assert ended(folder, "during.json") is None  # not rejected for the store's sake
    UNWRITABLE.clear()
    wait_for(lambda: ended(folder, "during.json") is not None, "the file after the outage")
    assert ended(folder, "during.json") == "processed"
    assert stuck(api) == []
    wait_for(lambda: component(running, "inbox")["state"] == "running", "the inbox is up")
    drop(folder, "later.json", json.dumps({"orders": [GOOD_ORDER]}))
    wait_for(lambda: ended(folder, "later.json") == "processed", "a file after the restarts")


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_files_abandoned_in_processing_come_back_while_running(
    api: LiveApi, running: Supervisor
) -> None:
    folder = inbox(api, "leads")
    dead = folder / "processing" / str(dead_pid())  # its process died
    dead.mkdir()
    (dead / "dead.json").write_text(json.dumps({"name": "Dee", "email": "dee@acme.io"}))
    silent = folder / "processing" / "1"  # alive, but silent for longer than allowed
    silent.mkdir()
    (silent / "silent.json").write_text(json.dumps({"name": "Sy", "email": "sy@acme.io"}))
    old = time.time() - api.services.settings.inbox_stale_seconds - 60
    os.utime(silent, (old, old))
    wait_for(lambda: bool(ended(folder, "dead.json") and ended(folder, "silent.json")), "both")
    assert stuck(api) == []
    with api.client("alice") as client:
        emails = {lead["email"] for lead in client.get("/v1/leads").json()["items"]}
    assert emails == {"dee@acme.io", "sy@acme.io"}
