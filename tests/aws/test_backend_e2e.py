"""LEADFLOW_BACKEND=aws end to end, against a real moto server on loopback.

`leadflow aws init` creates the resources, then `leadflow serve` (no job workers of its
own) and `leadflow worker` run as processes on the aws backend: the README's tour, an
upload of a messy CSV to `completed` (its result file through S3's presigned link, served
by the moto server, and its error file), undo, the DLQ listing, and the inbox through S3
event notifications (an object put under inbox/leads/ becomes leads).
"""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

BIN = Path(sys.executable).parent
PREFIX = "e2e"
PASSWORD = "correct-horse-battery"
PATIENCE = 120.0  # seconds any one thing may take on a loaded machine

MESSY = (
    "First Name;Last Name;E-mail;Phone;Company Name;Favourite Colour\n"
    "John;Doe; John.Doe@Example.com ;(415) 555-0134;Acme;blue\n"
    "Bad;Mail;not-an-email;;Acme;green\n"
    ";;;415.555.0199;;\n"
    "John;Doe;john.doe@example.com;415-555-0134;Acme Inc;\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, probe: Callable[[], Any]) -> Any:
    """Poll `probe` until it answers something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + PATIENCE
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (OSError, httpx.HTTPError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what}: still not there after {PATIENCE} s (last: {last!r})")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # the CLI's own Ctrl-C: loops finish and exit
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@dataclass
class Stack:
    endpoint: str
    api: str
    env: dict[str, str]
    data: Path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "leadflow"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=self.data,
        )

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("moto_server", lambda: urllib.request.urlopen(f"{url}/moto-api/", timeout=1))
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def stack(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("aws-e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADFLOW_", "AWS_"))}
    port = free_port()
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        LEADFLOW_BACKEND="aws",
        LEADFLOW_AWS_PREFIX=PREFIX,
        LEADFLOW_SECRET_KEY_SECRET_ID=f"{PREFIX}/secret-key",  # what `aws init` creates
        LEADFLOW_DATA_DIR=str(data / "data"),
        LEADFLOW_PORT=str(port),
        LEADFLOW_WORKERS="0",  # the uploads are the `leadflow worker` process's
        LEADFLOW_BATCH_SIZE="2",  # an upload of several batches
        COLUMNS="200",
    )
    stack = Stack(endpoint, f"http://127.0.0.1:{port}", env, data)
    init = stack.cli("aws", "init")
    assert init.returncode == 0, init.stderr
    added = stack.cli("users", "add", "admin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    logs = [(data / name).open("wb") for name in ("serve.log", "worker.log")]
    serve = subprocess.Popen(
        [str(BIN / "leadflow"), "serve"], env=env, stdout=logs[0], stderr=logs[0]
    )
    worker = subprocess.Popen(
        [str(BIN / "leadflow"), "worker"], env=env, stdout=logs[1], stderr=logs[1]
    )
    try:
        wait_for("the API", lambda: httpx.get(f"{stack.api}/healthz").status_code == 200)
        yield stack
    finally:
        stop(serve)
        stop(worker)
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    answer = httpx.post(
        f"{stack.api}/v1/auth/token", json={"username": "admin", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    with httpx.Client(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        yield client


def leads(api: httpx.Client, q: str) -> list[dict[str, Any]]:
    answer = api.get("/v1/leads", params={"q": q})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_readme_tour(stack: Stack, api: httpx.Client) -> None:
    record = {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "optIn": True,
        "interests": ["datascience", "python"],
    }
    saved = api.post("/v1/records", json=[record])
    assert saved.json() == {
        "received": 1,
        "valid": 1,
        "invalid": [],
        "duplicates": 0,
        "saved": 1,
        "ignored": 0,
    }
    bad = api.post(
        "/v1/records", json=[{"name": "", "email": "nope", "optIn": "yes", "interests": "5"}]
    )
    assert bad.status_code == 200
    assert {e["field"] for e in bad.json()["invalid"][0]["errors"]} == {
        "name",
        "email",
        "optIn",
        "interests",
    }
    logged = api.get("/v1/errors").json()["items"]
    assert [e["record"]["email"] for e in logged] == ["nope"]

    (stack.data / "messy.csv").write_text(MESSY)
    # two worker processes: the import's write ports are opened afresh in each
    imported = stack.cli("import", "messy.csv", "--workers", "2")
    assert imported.returncode == 0, imported.stderr
    assert "received" in imported.stdout and "4" in imported.stdout
    listed = stack.cli("errors", "list")
    assert listed.returncode == 0 and "not-an-email" in listed.stdout

    acme = {lead["email"]: lead for lead in leads(api, "acme")}
    john = acme["john.doe@example.com"]
    assert (john["company"], john["phone"], john["optIn"]) == ("Acme Inc", "+14155550134", True)
    history = api.get(f"/v1/leads/{john['leadId']}").json()["history"]
    assert "lead_updated" in [entry["action"] for entry in history]  # by the CSV
    assert [lead["phone"] for lead in leads(api, "4155550199")] == ["+14155550199"]


def test_an_upload_runs_to_completed_with_its_files_and_undo(
    stack: Stack, api: httpx.Client
) -> None:
    body = (
        "name,email,company\n"
        "Ann Upload,ann@upload.example,Globex\n"
        "Bad Row,not-an-email,Globex\n"
        "Bob Upload,bob@upload.example,Globex\n"
        "ANN UPLOAD, Ann@Upload.example ,Globex\n"
        "Cy Upload,cy@upload.example,Globex\n"
    )
    started = api.post("/v1/uploads", files={"file": ("globex.csv", body, "text/csv")})
    assert started.status_code == 202, started.text
    upload_id = started.json()["uploadId"]

    def ended() -> dict[str, Any] | None:
        document: dict[str, Any] = api.get(f"/v1/status/{upload_id}").json()
        return document if document["status"] in ("completed", "error", "cancelled") else None

    status = wait_for("the upload", ended)
    assert status["status"] == "completed", status
    summary = status["summary"]
    assert (summary["received"], summary["invalid"], summary["created"]) == (5, 1, 3)
    assert summary["duplicates"] == 1

    # the result file comes from S3 through a presigned GET, served by the moto server
    assert status["resultUrl"].startswith(stack.endpoint)
    result = httpx.get(status["resultUrl"])
    assert result.status_code == 200
    outcomes = [row["outcome"] for row in csv.DictReader(io.StringIO(result.text))]
    assert outcomes.count("created") == 3 and outcomes.count("invalid") == 1

    errors = api.get(f"/v1/uploads/{upload_id}/errors.csv")
    assert errors.status_code == 200
    rejected = list(csv.DictReader(io.StringIO(errors.text.lstrip("\ufeff"))))
    assert [(r["email"], bool(r["reason"])) for r in rejected] == [("not-an-email", True)]

    assert len(leads(api, "globex")) == 3
    undo = api.post(f"/v1/uploads/{upload_id}/undo")
    assert undo.status_code == 200, undo.text
    assert (undo.json()["deleted"], undo.json()["conflicts"]) == (3, 0)
    assert leads(api, "globex") == []


def test_incomplete_orders_are_listed_in_the_dlq(api: httpx.Client) -> None:
    order = {"contact-info": {"name": "No Mail"}, "order-info": {"orderId": "77"}}
    answer = api.post("/v1/orders", json={"orders": [order]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == 0
    dead = api.get("/v1/dlq").json()
    mine = [d for d in dead["items"] if d["body"].get("record") == order]
    assert len(mine) == 1 and "contact-info.email is missing" in mine[0]["lastError"]
    assert dead["depth"] >= 1


def test_an_object_put_in_the_inbox_becomes_leads(stack: Stack, api: httpx.Client) -> None:
    lines = [
        '{"name": "Ina Box", "email": "ina@inbox.example", "company": "Inboxco"}',
        '{"name": "Otto Box", "email": "otto@inbox.example", "company": "Inboxco"}',
    ]
    stack.client("s3").put_object(
        Bucket=f"{PREFIX}-blobs", Key="inbox/leads/two leads.ndjson", Body="\n".join(lines)
    )
    found = wait_for("the inbox leads", lambda: len(leads(api, "inboxco")) == 2 or None)
    assert found
    inbox_leads = leads(api, "inboxco")
    assert {(lead["email"], lead["source"]) for lead in inbox_leads} == {
        ("ina@inbox.example", "inbox"),
        ("otto@inbox.example", "inbox"),
    }
    assert {lead["sourceFile"] for lead in inbox_leads} == {"two leads.ndjson"}


def test_missing_resources_are_one_line_and_exit_2(stack: Stack) -> None:
    env = {**stack.env, "LEADFLOW_AWS_PREFIX": "never-initialised"}
    run = subprocess.run(
        [str(BIN / "leadflow"), "errors", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "leadflow aws init" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_without_the_aws_extra_the_backend_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from leadflow.bootstrap import UnsupportedBackend, bootstrap
    from leadflow.settings import Settings

    monkeypatch.delitem(sys.modules, "leadflow.aws.backend", raising=False)  # imported anew
    for name in ("boto3", "botocore", "botocore.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    settings = Settings(backend="aws", data_dir=tmp_path)
    with pytest.raises(UnsupportedBackend, match=r"pip install 'leadflow\[aws\]'"):
        bootstrap(settings)
