"""The LLM provider against a loopback chat-completions peer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from api_server import live_api
from chat_peer import ChatScript, chat_peer

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker
from leadflow.providers.client import ProviderClient, ProviderError
from leadflow.providers.llm import LlmProvider

ROWS = [
    {"Full Name": f"Person {n}", "Mail": f"p{n}@acme.io", "Tel": "(415) 555-0134", "Org": "Acme"}
    for n in range(25)
]


def provider(url: str, **kwargs: object) -> LlmProvider:
    client = ProviderClient("llm", sleep=lambda _: None)
    return LlmProvider(client, url, "deepseek-chat", "sk-test", **kwargs)  # type: ignore[arg-type]


def test_rows_are_standardized_ten_a_call_in_order() -> None:
    script = ChatScript()
    with chat_peer(script) as url:
        leads = provider(url).enrich_batch(ROWS)
    assert script.calls == 3  # 10 + 10 + 5
    assert [lead["lastName"] for lead in leads] == [str(n) for n in range(25)]
    assert leads[7] == {
        "firstName": "Person",
        "lastName": "7",
        "title": None,
        "company": "Acme",
        "email": "p7@acme.io",
        "phone": "(415) 555-0134",
        "remarks": None,
    }
    request = script.requests[0]
    assert request["model"] == "deepseek-chat"
    assert request["response_format"] == {"type": "json_object"}
    assert request["messages"][0]["role"] == "system"


def test_an_invented_email_or_phone_is_dropped() -> None:
    script = ChatScript(invent=True)
    with chat_peer(script) as url:
        (lead,) = provider(url).enrich_batch(ROWS[:1])
    assert lead["email"] is None and lead["phone"] is None
    assert lead["rejected"] == ["email", "phone"]
    assert lead["company"] == "Acme"


def test_a_malformed_answer_is_asked_again_then_fails_the_batch() -> None:
    script = ChatScript(malformed=1)
    with chat_peer(script) as url:
        assert len(provider(url).enrich_batch(ROWS[:3])) == 3
    assert script.calls == 2
    stubborn = ChatScript(malformed=99)
    with chat_peer(stubborn) as url:
        with pytest.raises(ProviderError, match="malformed"):
            provider(url, repairs=2).enrich_batch(ROWS[:3])
    assert stubborn.calls == 3


def test_calls_run_in_parallel_up_to_the_limit() -> None:
    script = ChatScript(delay=0.2)
    with chat_peer(script) as url:
        provider(url, concurrency=4).enrich_batch(ROWS * 4)  # 100 rows, 10 calls
    assert script.calls == 10
    assert 2 <= script.max_in_flight <= 4


def test_an_enrichment_job_through_the_llm(tmp_path: Path) -> None:
    script = ChatScript()
    with (
        chat_peer(script) as url,
        live_api(tmp_path / "data", llm_base_url=url, llm_api_key="sk-test") as api,
    ):
        with api.client("alice") as c:
            response = c.post("/v1/process", json={"contacts": ROWS, "provider": "llm"})
            assert response.status_code == 202, response.text
            worker = Worker(worker_ports(api.services))
            while worker.run_once():
                pass
            status = c.get(f"/v1/status/{response.json()['jobId']}").json()
        result = httpx.get(status["resultUrl"]).text.splitlines()
        metrics = httpx.get(f"{api.base_url}/metrics").text
    assert status["status"] == "completed" and status["summary"]["received"] == 25
    assert "enriched_firstName" in result[0] and len(result) == 26
    assert 'leadflow_provider_tokens_total{provider="llm"}' in metrics


MESSY = "Full Name,Mail,Tel,Org\nAnn Lee,ann@acme.io,(415) 555-0134,Acme\nBo Ray,bo@acme.io,,Acme\n"


def test_an_upload_standardized_by_the_llm(tmp_path: Path) -> None:
    script = ChatScript()
    with (
        chat_peer(script) as url,
        live_api(tmp_path / "data", llm_base_url=url, llm_api_key="sk-test") as api,
    ):
        with api.client("alice") as c:
            response = c.post(
                "/v1/uploads",
                files={"file": ("messy.csv", MESSY.encode())},
                params={"standardize": "llm"},
            )
            assert response.status_code == 202, response.text
            worker = Worker(worker_ports(api.services))
            while worker.run_once():
                pass
            status = c.get(f"/v1/status/{response.json()['uploadId']}").json()
            leads = {lead["email"]: lead for lead in c.get("/v1/leads").json()["items"]}
    assert status["status"] == "completed" and status["summary"]["created"] == 2
    assert script.calls == 1  # two rows, one call
    ann = leads["ann@acme.io"]
    assert (ann["firstName"], ann["lastName"], ann["company"]) == ("Ann", "Lee", "Acme")
    assert ann["phone"] == "+14155550134"


def test_the_cli_import_standardizes_with_the_llm(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    source = tmp_path / "messy.csv"
    source.write_text(MESSY)
    script = ChatScript()
    with chat_peer(script) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
        env.update(
            LEADFLOW_DATA_DIR=str(tmp_path / "data"),
            LEADFLOW_LLM_BASE_URL=url,
            LEADFLOW_LLM_API_KEY="sk-test",
        )
        leadflow = Path(sys.executable).parent / "leadflow"
        run = subprocess.run(
            [str(leadflow), "import", str(source), "--standardize", "llm", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert '"created": 2' in run.stdout.splitlines()[-1]
    assert script.calls == 1


def test_rows_the_header_map_places_fully_skip_the_llm(tmp_path: Path) -> None:
    tidy = "Name,Email,Phone,Company\nAnn Lee,ann@acme.io,(415) 555-0134,Acme\n"
    script = ChatScript()
    with (
        chat_peer(script) as url,
        live_api(tmp_path / "data", llm_base_url=url, llm_api_key="sk-test") as api,
    ):
        with api.client("alice") as c:
            response = c.post(
                "/v1/uploads",
                files={"file": ("tidy.csv", tidy.encode())},
                params={"standardize": "llm"},
            )
            worker = Worker(worker_ports(api.services))
            while worker.run_once():
                pass
            status = c.get(f"/v1/status/{response.json()['uploadId']}").json()
    assert status["summary"]["created"] == 1
    assert script.calls == 0  # every column had a place: no model needed


def test_the_chat_peer_failing_with_429_500_and_timeouts() -> None:
    waits: list[float] = []
    script = ChatScript(statuses=[429, 500])
    with chat_peer(script) as url:
        client = ProviderClient("llm", sleep=waits.append)
        leads = LlmProvider(client, url, "deepseek-chat", None).enrich_batch(ROWS[:2])
    assert len(leads) == 2 and script.calls == 1  # the two failures were retried
    assert waits[0] == 2.0  # Retry-After honoured

    slow = ChatScript(delay=0.5)
    with chat_peer(slow) as url:
        client = ProviderClient("llm", timeout=0.1, attempts=2, sleep=lambda _: None)
        with pytest.raises(ProviderError, match="ReadTimeout"):
            LlmProvider(client, url, "deepseek-chat", None).enrich_batch(ROWS[:2])
