"""The state machines of deploy/aws executed by moto's ASL interpreter.

moto runs Lambda code only with Docker, so this test (and only this test) routes moto's
Lambda invoke to our task handlers in-process; everything else is moto's interpreter:
the Map and Parallel states, ItemSelector and the context object, Retry and Catch.
Seed 000's and seed 003's example documents must give the same results as the local
pipelines (POST /v1/records' run_optin, the inbox's run_orders). Until the AWS adapters
are merged, the handlers' services are the local backend's (see lambda_events.py).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from lambda_events import local_services
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from leadflow.adapters.sqlite_orders import SqliteOrderStore
from leadflow.aws import step_handlers
from leadflow.bootstrap import Services, bootstrap
from leadflow.pipelines.optin import run_optin
from leadflow.pipelines.orders import run_orders
from leadflow.ports import LeadQuery
from leadflow.providers.offline import OfflineProvider
from leadflow.settings import Settings

__all__ = ["local_services"]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/leadflow-states"
HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    "OptinValidateFunctionArn": step_handlers.validate,
    "OptinLogErrorsFunctionArn": step_handlers.log_schema_errors,
    "OptinDedupeFunctionArn": step_handlers.remove_duplicates,
    "OptinStoreFunctionArn": step_handlers.store_optins,
    "OrderFunctionArn": step_handlers.store_order,
    "OrderDeadLetterFunctionArn": step_handlers.dead_letter_order,
    "EnrichFunctionArn": step_handlers.enrich_contact,
}


def function_arn(substitution: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:leadflow-{substitution}"


INVOKED: list[tuple[str, Any]] = []  # (handler, what it answered), in order


def invoke_in_process(
    self: LambdaBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """moto's Lambda invoke, answered by our handler as the Lambda runtime would: the
    handler's return value, or an error document with errorType = the exception's class."""
    by_arn = {function_arn(name): name for name in HANDLERS}
    name = by_arn[function_name]
    try:
        result: Any = HANDLERS[name](json.loads(body) if body else {}, None)
        INVOKED.append((name, result))
    except Exception as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        result = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
    payload = json.dumps(result).encode()
    response_headers["Content-Length"] = str(len(payload))
    return payload


@pytest.fixture
def states(local_services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(LambdaBackend, "invoke", invoke_in_process)
    INVOKED.clear()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)


def create(client: Any, machine: str) -> str:
    definition = (DEPLOY / f"{machine}.asl.json").read_text()
    for name in HANDLERS:
        definition = definition.replace("${" + name + "}", function_arn(name))
    definition = definition.replace("${ResultsBucket}", "leadflow-blobs")
    arn: str = client.create_state_machine(
        name=f"leadflow-{machine}", definition=definition, roleArn=ROLE
    )["stateMachineArn"]
    return arn


def execute(client: Any, machine_arn: str, payload: Any) -> dict[str, Any]:
    """Start an execution and wait for it to leave RUNNING (moto runs it in a thread)."""
    execution = client.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))
    for _ in range(600):
        described: dict[str, Any] = client.describe_execution(
            executionArn=execution["executionArn"]
        )
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("the execution did not end")


OPTIN_RECORDS = [
    {"name": "John Doe", "email": "john.doe@example.com", "optIn": True, "interests": ["ds"]},
    {"name": "Ann Lee", "email": "ann@example.com", "optIn": False, "interests": ["python"]},
    {"name": "Bad Mail", "email": "not-an-email", "optIn": True, "interests": ["x"]},
    {"name": "John Doe", "email": "JOHN.DOE@example.com", "optIn": True, "interests": ["py"]},
    {"email": "nobody@example.com", "optIn": "yes", "interests": []},
    {"name": "Cid Moe", "email": "cid@example.com", "optIn": True, "interests": ["go", "ml"]},
]


def comparable(lead: dict[str, Any]) -> dict[str, Any]:
    """A lead without what differs between two runs (ids, times, import ids)."""
    varying = {"leadId", "createdAt", "updatedAt", "importId", "createdImportId", "version"}
    return {k: v for k, v in lead.items() if k not in varying and not k.endswith("Id")}


def other_services(tmp_path: Path) -> Services:
    """A second, independent local store: the reference run of the SQLite pipelines."""
    settings = Settings(data_dir=tmp_path / "reference", secret_key="r" * 48)
    return bootstrap(settings)


def test_seed_000_optin_workflow_matches_the_local_pipeline(
    states: Any, local_services: Services, tmp_path: Path
) -> None:
    machine = create(states, "optin")
    done = execute(states, machine, {"owner": "alice", "records": OPTIN_RECORDS})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    reference = run_optin(
        other_services(tmp_path).write_ports(ledgered=False), "alice", OPTIN_RECORDS
    )
    saved = sum(b["created"] + b["updated"] + b["unchanged"] for b in output["batches"])
    assert {
        "received": output["received"],
        "valid": output["valid"],
        "invalid": output["invalid"],
        "duplicates": output["duplicates"],
        "ignored": output["ignored"],
        "saved": saved,
    } == {
        "received": reference.received,
        "valid": reference.valid,
        "invalid": reference.invalid,
        "duplicates": reference.duplicates,
        "ignored": reference.ignored,
        "saved": reference.saved,
    }
    assert (reference.received, reference.duplicates, reference.ignored, reference.saved) == (
        6,
        1,
        1,
        2,
    )
    query = LeadQuery(sort="email")
    stored, _ = local_services.lead_reads.list_leads("alice", query)
    expected, _ = other_services(tmp_path).lead_reads.list_leads("alice", query)
    assert [comparable(lead) for lead in stored] == [comparable(lead) for lead in expected]
    assert [lead["email"] for lead in stored] == ["cid@example.com", "john.doe@example.com"]
    logged = local_services.schema_errors.list("alice")
    expected_log = other_services(tmp_path).schema_errors.list("alice")
    assert sorted(e["index"] for e in logged) == [2, 4]

    def errors(log: list[dict[str, Any]]) -> list[Any]:
        return sorted((e["index"], e["record"], e["errors"], e["source"]) for e in log)

    assert errors(logged) == errors(expected_log)


def test_seed_000_workflow_refuses_a_body_that_is_not_a_list(states: Any) -> None:
    machine = create(states, "optin")
    done = execute(states, machine, {"owner": "alice", "records": {"name": "x"}})
    assert done["status"] == "FAILED"
    assert done["error"] == "NotAList"


SEED_003 = {
    "orders": [
        {
            "contact-info": {"name": "Foo Bar", "email": "foobar@test.com"},
            "order-info": {"OrderId": "1", "item-id": "101", "item-desc": "Item One", "qty": "1"},
        },
        {"order-info": {"orderId": "2", "item-id": "102", "item-desc": "Item Two", "qty": "2"}},
    ]
}


def dead_letters(services: Services) -> list[tuple[Any, str | None]]:
    return sorted(
        ((d.body, d.last_error) for d in services.dead_letters.list("alice")),
        key=lambda pair: pair[0]["index"],
    )


def test_seed_003_orders_workflow_matches_the_local_pipeline(
    states: Any, local_services: Services, tmp_path: Path
) -> None:
    orders = [*SEED_003["orders"], SEED_003["orders"][0], {"contact-info": {"name": "X"}}]
    machine = create(states, "orders")
    payload = {"owner": "alice", "source": "mock-data.json", "orders": orders}
    done = execute(states, machine, payload)
    assert done["status"] == "SUCCEEDED", done
    outcomes = json.loads(done["output"])["outcomes"]
    assert [o["index"] for o in outcomes] == [0, 1, 2, 3]
    assert [o["outcome"] for o in outcomes].count("stored") == 1
    assert [o["outcome"] for o in outcomes].count("duplicate") == 1
    assert [o["outcome"] for o in outcomes[1::2]] == ["incomplete", "incomplete"]

    reference = other_services(tmp_path)
    result = run_orders(reference.orders, reference.dead_letters, "alice", orders, "mock-data.json")
    assert (result.stored, result.duplicates, len(result.incomplete)) == (1, 1, 2)
    assert [o["reasons"] for o in outcomes[1::2]] == [i["reasons"] for i in result.incomplete]

    def orders_of(services: Services) -> list[dict[str, Any]]:
        store = services.orders
        assert isinstance(store, SqliteOrderStore)
        return [
            {k: v for k, v in order.items() if k not in ("createdAt", "id")}
            for order in store.list("alice")
        ]

    assert orders_of(local_services) == orders_of(reference)
    assert dead_letters(local_services) == dead_letters(reference)


CONTACTS_CSV = (
    "email,name,phone\n"
    "ann@acme.example,Ann Lee,+1 415 555 0100\n"
    "bob@gmail.com,Bob Ray,\n"
    "not-an-email,Cid Moe,\n"
)


def test_seed_001_distributed_map_reads_the_list_from_s3_and_writes_results(
    states: Any, local_services: Services
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="leadflow-blobs")
    s3.put_object(Bucket="leadflow-blobs", Key="uploads/list.csv", Body=CONTACTS_CSV.encode())
    machine = create(states, "enrichment")
    payload = {
        "bucket": "leadflow-blobs",
        "key": "uploads/list.csv",
        "provider": "offline",
        "owner": "alice",
    }
    done = execute(states, machine, payload)
    assert done["status"] == "SUCCEEDED", done
    provider = OfflineProvider(local_services.settings.default_region)
    contacts = [
        dict(zip(["email", "name", "phone"], line.split(","), strict=True))
        for line in CONTACTS_CSV.splitlines()[1:]
    ]
    expected = [{"contact": c, "enrichment": provider.enrich(c)} for c in contacts]
    # moto's ResultWriter writes the run's manifest but not yet the result files
    # (SUCCEEDED_n.json): the children's outputs are read from their invocations instead.
    (written,) = s3.list_objects_v2(Bucket="leadflow-blobs", Prefix="results/enrichment/")[
        "Contents"
    ]
    details = json.loads(done["output"])["ResultWriterDetails"]
    assert details == {"Bucket": "leadflow-blobs", "Key": written["Key"]}
    assert written["Key"].endswith("/manifest.json")
    results = [result for name, result in INVOKED if name == "EnrichFunctionArn"]
    key = lambda r: r["contact"]["email"]  # noqa: E731
    assert sorted(results, key=key) == sorted(expected, key=key)
    assert [r["enrichment"].get("emailValid") for r in sorted(results, key=key)] == [
        True,
        True,
        False,
    ]
