"""Issue 9 4.5 and 4.6: dead letters never hang or wreck a job, every kind can be
redriven, and a provider down for good (or not configured) ends its jobs."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from api_server import LiveApi, assert_envelope, live_api
from chat_peer import ChatScript, chat_peer
from provider_peer import PeerScript, provider_peer

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker

MESSY = (
    "Full Name,Mail,Tel,Org\n"
    "Ann Lee,ann@acme.io,,Acme\nBo Ray,bo@acme.io,,Acme\n"
    "Cy Ng,cy@acme.io,,Acme\nDi Ho,di@acme.io,,Acme\n"
    "Ed Yu,ed@acme.io,,Acme\nFa Li,fa@acme.io,,Acme\n"
)
KEY = "sk-test"


def drain(api: LiveApi) -> None:
    worker = Worker(worker_ports(api.services))
    while worker.run_once():
        pass


def status_of(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/status/{job_id}").json())


def result_rows(status: dict[str, Any]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(httpx.get(status["resultUrl"]).text)))


def test_a_dead_batch_leaves_the_job_completed_and_its_redrive_completes_the_counts(
    tmp_path: Path,
) -> None:
    # The model answers garbage for the first batch (three calls in the group attempt,
    # three when tried alone: it is then dead at its first failure), well afterwards.
    script = ChatScript(malformed=6)
    with (
        chat_peer(script) as url,
        live_api(
            tmp_path / "data", llm_base_url=url, llm_api_key=KEY, batch_size=2, max_receive_count=1
        ) as api,
        api.client("alice") as client,
    ):
        upload = client.post(
            "/v1/uploads", files={"file": ("m.csv", MESSY.encode())}, params={"standardize": "llm"}
        )
        job_id = upload.json()["uploadId"]
        drain(api)
        status = status_of(client, job_id)
        assert status["status"] == "completed", status
        assert status["summary"]["deadLettered"] == 1
        assert (status["summary"]["received"], status["summary"]["created"]) == (4, 4)
        assert len(result_rows(status)) == 4
        (letter,) = client.get("/v1/dlq").json()["items"]
        assert "MalformedAnswer" in letter["lastError"]

        assert client.post("/v1/dlq/redrive", json={}).json() == {"redriven": 1}
        drain(api)
        status = status_of(client, job_id)
        assert client.get("/v1/dlq").json()["depth"] == 0
        rows = result_rows(status)
    assert status["status"] == "completed"
    summary = status["summary"]
    assert (summary["received"], summary["created"], summary["deadLettered"]) == (6, 6, 0)
    assert status["progress"]["completedBatches"] == 3
    assert sorted(int(row["row"]) for row in rows) == list(range(6))


def test_a_job_whose_every_batch_died_ends_in_error_and_a_redrive_completes_it(
    tmp_path: Path,
) -> None:
    script = ChatScript(malformed=10**6)
    with (
        chat_peer(script) as url,
        live_api(tmp_path / "data", llm_base_url=url, llm_api_key=KEY, max_receive_count=1) as api,
        api.client("alice") as client,
    ):
        upload = client.post(
            "/v1/uploads", files={"file": ("m.csv", MESSY.encode())}, params={"standardize": "llm"}
        )
        job_id = upload.json()["uploadId"]
        drain(api)
        status = status_of(client, job_id)
        assert status["status"] == "error" and status["error"]["code"] == "dead_lettered"
        script.malformed = 0  # the cause is fixed
        client.post("/v1/dlq/redrive", json={})
        drain(api)
        status = status_of(client, job_id)
    assert status["status"] == "completed" and status["error"] is None
    assert (status["summary"]["created"], status["summary"]["deadLettered"]) == (6, 0)


def test_redriven_orders_and_notifications_run_again_and_keep_their_reason(
    tmp_path: Path,
) -> None:
    with live_api(tmp_path / "data") as api, api.client("alice") as client:
        incomplete = {"orderId": "o1", "itemId": "i1", "qty": 1}
        response = client.post("/v1/orders", json={"orders": [incomplete]})
        assert response.status_code == 200, response.text
        (order,) = client.get("/v1/dlq").json()["items"]
        reason = order["lastError"]
        lead = {"leadId": "L1", "name": "Ann", "email": "ann@acme.io"}
        api.services.dead_letters.add(
            [{"kind": "notification", "lead": lead}], "alice", "slack: 500"
        )
        client.post("/v1/dlq/redrive", json={})
        drain(api)
        letters = client.get("/v1/dlq").json()["items"]
    # the order is still incomplete: back in the DLQ with its own reason, not a crash
    assert [(letter["body"]["kind"], letter["lastError"]) for letter in letters] == [
        ("order", reason)
    ]
    assert "unknown message kind" not in reason
    # the notification is back in the outbox, for the notifier to send
    assert api.services.outbox.counts() == {"pending": 1}


def test_a_redriven_order_that_is_complete_now_is_stored(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client("alice") as client:
        record = {
            "order-info": {"orderId": "o1", "item-id": "i1", "qty": "2"},
            "contact-info": {"name": "Ann", "email": "a@x.io"},
        }
        api.services.dead_letters.add(
            [{"kind": "order", "source": "s", "record": record}], "alice", "x"
        )
        client.post("/v1/dlq/redrive", json={})
        drain(api)
        orders = client.get("/v1/orders").json()
        depth = client.get("/v1/dlq").json()["depth"]
    assert depth == 0
    assert [o["qty"] for o in orders["items"]] == [2]


def test_a_redriven_alarm_is_sent_to_the_alert_webhook(tmp_path: Path) -> None:
    script = PeerScript(webhook=True)
    with (
        provider_peer(script) as url,
        live_api(tmp_path / "data", slack_alert_webhook_url=url) as api,
        api.client("alice") as client,
    ):
        text = "leadflow: the dead-letter queue holds 3 messages (threshold 2)"
        api.services.dead_letters.add([{"kind": "alarm", "text": text}], "alice", "slack: timeout")
        client.post("/v1/dlq/redrive", json={})
        drain(api)
        depth = client.get("/v1/dlq").json()["depth"]
    assert depth == 0
    assert script.received == [{"text": text}]


def test_the_llm_without_a_key_is_refused_before_any_job_starts(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client("alice") as client:
        process = client.post("/v1/process", json={"contacts": [{"a": 1}], "provider": "llm"})
        upload = client.post(
            "/v1/uploads", files={"file": ("m.csv", MESSY.encode())}, params={"standardize": "llm"}
        )
        assert api.services.queue.depth() == 0
    for response in (process, upload):
        error = assert_envelope(response, 422, "unknown_provider")
        assert "LEADFLOW_LLM_API_KEY" in error["message"]
    source = tmp_path / "m.csv"
    source.write_text(MESSY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env["LEADFLOW_DATA_DIR"] = str(tmp_path / "cli")
    leadflow = Path(sys.executable).parent / "leadflow"
    run = subprocess.run(
        [str(leadflow), "import", str(source), "--standardize", "llm", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "LEADFLOW_LLM_API_KEY" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


def run_until_ended(api: LiveApi, client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Work the queue until the job ends (its retries wait a few seconds in between)."""
    worker = Worker(worker_ports(api.services))
    for _ in range(600):
        worker.run_once()
        status = status_of(client, job_id)
        if status["status"] in ("completed", "error", "cancelled"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end: {status}")


def test_a_provider_down_for_good_ends_its_job_within_the_outage_budget(tmp_path: Path) -> None:
    script = ChatScript(statuses=[503] * 10**6)  # down for good
    with (
        chat_peer(script) as url,
        live_api(
            tmp_path / "data", llm_base_url=url, llm_api_key=KEY, provider_outage_budget=0
        ) as api,
        api.client("alice") as client,
    ):
        job_id = client.post(
            "/v1/process", json={"contacts": [{"name": "Ann"}], "provider": "llm"}
        ).json()["jobId"]
        status = run_until_ended(api, client, job_id)
        (letter,) = client.get("/v1/dlq").json()["items"]
    assert status["status"] == "error" and status["error"]["code"] == "dead_lettered"
    assert "LEADFLOW_PROVIDER_OUTAGE_BUDGET" in letter["lastError"]


def test_within_the_outage_budget_a_message_waits_for_the_provider(tmp_path: Path) -> None:
    script = ChatScript(statuses=[503] * 10**6)
    with (
        chat_peer(script) as url,
        live_api(
            tmp_path / "data", llm_base_url=url, llm_api_key=KEY, provider_outage_budget=3600
        ) as api,
        api.client("alice") as client,
    ):
        job_id = client.post(
            "/v1/process", json={"contacts": [{"name": "Ann"}], "provider": "llm"}
        ).json()["jobId"]
        worker = Worker(worker_ports(api.services))
        calls = -1
        while script.calls != calls:  # until the circuit opens and calls stop
            calls = script.calls
            worker.run_once()
            time.sleep(2.1)  # the first failure's retry delay
        status = status_of(client, job_id)
        queued, dead = api.services.queue.depth(), api.services.dead_letters.depth()
    assert status["status"] == "processing"
    assert (queued, dead) == (1, 0)  # released uncounted, waiting out the cool-down


def test_a_dead_split_ends_its_job_and_its_redrive_runs_it(tmp_path: Path) -> None:
    with (
        live_api(tmp_path / "data", max_receive_count=1) as api,
        api.client("alice") as client,
    ):
        upload = client.post("/v1/uploads", files={"file": ("a.csv", b"Email\na@x.io\nb@x.io\n")})
        job_id = upload.json()["uploadId"]
        job = api.services.jobs.get(job_id)
        assert job is not None and job.blob_key is not None
        path = api.services.blobs.local_path(job.blob_key)
        assert path is not None
        kept = path.read_bytes()
        path.unlink()  # the stored file is missing: the split fails
        drain(api)
        failed = status_of(client, job_id)
        path.write_bytes(kept)  # put back
        client.post("/v1/dlq/redrive", json={})
        drain(api)
        status = status_of(client, job_id)
    assert failed["status"] == "error" and failed["error"]["code"] == "dead_lettered"
    assert status["status"] == "completed" and status["summary"]["created"] == 2


def test_a_batch_whose_leases_ran_out_is_adopted_and_its_job_completes(tmp_path: Path) -> None:
    """A worker killed with each receive leaves no failure behind: the queue moves the
    message to the DLQ by itself; adopting the DLQ's batches lets the job end."""
    with (
        live_api(tmp_path / "data", batch_size=1, max_receive_count=1) as api,
        api.client("alice") as client,
    ):
        job_id = client.post(
            "/v1/uploads", files={"file": ("a.csv", b"Email\na@x.io\nb@x.io\n")}
        ).json()["uploadId"]
        worker = Worker(worker_ports(api.services))
        worker.run_once(max_messages=1)  # the split: two batch messages
        queue = api.services.queue
        (leased,) = queue.receive(1, visibility_timeout=0.0)  # and its worker dies
        drain(api)  # the other batch; the leased one is dead at its next receive
        stuck = status_of(client, job_id)
        adopted = worker.adopt_dead_letters()
        status = status_of(client, job_id)
    assert leased.body["kind"] == "batch"
    assert stuck["status"] == "processing"
    assert adopted == 1
    assert status["status"] == "completed" and status["summary"]["deadLettered"] == 1
