"""Inbox drop folders: claimed once, processed, moved; rejected files keep a reason."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import LiveApi, live_api

from leadflow.bootstrap import inbox_ports
from leadflow.jobs.inbox import Inbox, InboxWatcher
from leadflow.jobs.supervisor import Supervisor

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
    with live_api(tmp_path / "data", inbox_owner="alice") as running:
        yield running


def drop(folder: Path, name: str, content: str) -> Path:
    """The documented way: write name.tmp, then rename it into place."""
    tmp = folder / f"{name}.tmp"
    tmp.write_text(content)
    target = folder / name
    os.rename(tmp, target)
    old = time.time() - 1
    os.utime(target, (old, old))  # settled
    return target


def listing(folder: Path) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in folder.iterdir())


def test_lead_files_are_processed_enriched_and_moved(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    folder = inbox.root / "leads"
    drop(folder, "one.json", json.dumps({"name": "Ann Lee", "email": "ann@acme.io"}))
    drop(folder, "many.ndjson", '{"email": "bo@gmail.com", "name": "Bo"}\n{"email": "bad@"}\n')
    drop(folder, "half.json.tmp", "{")  # still being written: never read
    assert inbox.run_once() == 2
    assert listing(folder / "processed") == ["many.ndjson", "one.json"]
    assert (folder / "half.json.tmp").exists()
    with api.client("alice") as client:
        leads = {lead["email"]: lead for lead in client.get("/v1/leads").json()["items"]}
        errors = client.get("/v1/errors").json()["items"]
    assert leads["ann@acme.io"]["source"] == "inbox"
    assert [e["record"] for e in errors] == [{"email": "bad@"}]
    blob = api.services.blobs.open(f"enriched/alice/{leads['ann@acme.io']['leadId']}.json")
    enriched = json.loads(blob.read())
    assert enriched["enrichment"]["offline"]["companyGuess"] == "Acme"


def test_the_same_file_again_changes_nothing(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    folder = inbox.root / "leads"
    content = json.dumps([{"name": "Keyless Kim", "company": "Acme"}])
    drop(folder, "a.json", content)
    inbox.run_once()
    drop(folder, "a-again.json", content)  # reprocessed after a crash, or dropped twice
    inbox.run_once()
    with api.client("alice") as client:
        assert len(client.get("/v1/leads").json()["items"]) == 1


def test_orders_files_store_complete_orders_and_bury_the_rest(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    drop(inbox.root / "orders", "sales.json", json.dumps(SEED_003, indent=2))
    assert inbox.run_once() == 1
    with api.client("alice") as client:
        orders = client.get("/v1/orders").json()["items"]
        dlq = client.get("/v1/dlq").json()
    assert [(o["orderId"], o["source"]) for o in orders] == [("1", "sales.json")]
    assert dlq["depth"] == 1


def test_unreadable_files_are_rejected_with_a_reason(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    folder = inbox.root / "orders"
    drop(folder, "broken.json", '{"orders": [')
    drop(folder, "empty.csv", "")
    inbox.run_once()
    rejected = sorted((folder / "rejected").iterdir())
    names = [p.name.split("-", 1)[1] for p in rejected]
    assert names == ["broken.json", "broken.json.reason.txt"]
    # an empty file is read, with no records: it is processed, not rejected
    assert [p.name.split("-", 1)[1] for p in (folder / "processed").iterdir()] == ["empty.csv"]
    assert "not valid JSON" in rejected[1].read_text()


def test_only_one_claim_wins_and_dead_workers_files_come_back(api: LiveApi) -> None:
    inbox = Inbox(inbox_ports(api.services))
    inbox.recover()  # this process's own start
    path = drop(inbox.root / "leads", "x.json", "{}")
    first = inbox.claim("leads", path)
    assert first is not None and inbox.claim("leads", path) is None
    assert first.parent.name == str(os.getpid()) and first.name == "x.json"
    assert inbox.recover() == 0  # ours, and we are alive
    gone = first.parent.with_name(str(dead_pid()))  # a process that is gone
    gone.mkdir()
    os.rename(first, gone / "x.json")
    assert inbox.recover() == 1
    assert path.exists() and not gone.exists()


def test_the_watcher_picks_files_up_from_os_events(api: LiveApi) -> None:
    stop = threading.Event()
    supervisor = Supervisor(stop, role="test")
    supervisor.add("inbox", lambda: InboxWatcher(inbox_ports(api.services), stop))
    threads = supervisor.start()
    try:
        folder = api.services.settings.data_dir / "inbox" / "leads"
        while not folder.exists():
            time.sleep(0.01)
        time.sleep(0.3)  # the watcher is listening
        started = time.monotonic()
        tmp = folder / "live.json.tmp"
        tmp.write_text(json.dumps({"name": "Live Lee", "email": "live@acme.io"}))
        os.rename(tmp, folder / "live.json")
        while not list((folder / "processed").iterdir()):
            assert time.monotonic() - started < 5, "the watcher never took the file"
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert time.monotonic() - started < 2


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
