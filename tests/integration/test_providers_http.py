"""The generic HTTP provider and the shared client, against a loopback peer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_server import LiveApi, assert_envelope, live_api
from provider_peer import PeerScript, provider_peer

from leadflow.bootstrap import worker_ports
from leadflow.jobs.worker import Worker
from leadflow.providers.client import (
    CircuitBreaker,
    CircuitOpen,
    ProviderClient,
    ProviderError,
    retry_after_seconds,
)
from leadflow.providers.http_provider import HttpProvider

CONTACTS = [{"email": "a@x.io"}, {"email": "bob@example.com"}]


def client(waits: list[float], **kwargs: object) -> ProviderClient:
    return ProviderClient("test", sleep=waits.append, **kwargs)  # type: ignore[arg-type]


def test_answers_map_back_by_index_or_by_key() -> None:
    for keyed in (False, True):
        script = PeerScript(keyed=keyed)
        with provider_peer(script) as url:
            results = HttpProvider(url, client([])).enrich_batch(CONTACTS)
        if keyed:  # the peer answers in reverse order, keyed by email
            assert results == [{"score": 6}, {"score": 15}]
        else:
            assert results == [
                {"score": 0, "seen": "a@x.io"},
                {"score": 1, "seen": "bob@example.com"},
            ]


def test_429_honours_retry_after() -> None:
    waits: list[float] = []
    script = PeerScript(failures=[(429, {"Retry-After": "3"}, "{}")])
    with provider_peer(script) as url:
        results = HttpProvider(url, client(waits)).enrich_batch(CONTACTS)
    assert len(results) == 2 and script.calls == 2
    assert waits == [3.0]


def test_5xx_and_timeouts_are_retried_with_backoff() -> None:
    waits: list[float] = []
    script = PeerScript(failures=[(500, {}, "oops"), (503, {}, "later")])
    with provider_peer(script) as url:
        assert len(HttpProvider(url, client(waits, backoff=0.5)).enrich_batch(CONTACTS)) == 2
    assert script.calls == 3
    assert len(waits) == 2 and 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0  # full jitter

    slow = PeerScript(delay=0.5)
    with provider_peer(slow) as url:
        with pytest.raises(ProviderError, match="after 3 attempts"):
            HttpProvider(url, client([], timeout=0.1, attempts=3)).enrich_batch(CONTACTS)


def test_a_bad_request_is_not_retried() -> None:
    script = PeerScript(failures=[(400, {}, '{"error": "bad"}')])
    with provider_peer(script) as url:
        with pytest.raises(ProviderError, match="refused"):
            HttpProvider(url, client([])).enrich_batch(CONTACTS)
    assert script.calls == 1


def test_malformed_answers_are_errors() -> None:
    script = PeerScript(
        failures=[
            (200, {}, "not json"),
            (200, {}, '{"results": [1, 2]}'),
            (200, {}, '{"results": [{"score": 1}]}'),
        ]
    )
    with provider_peer(script) as url:
        provider = HttpProvider(url, client([]))
        with pytest.raises(ProviderError, match="no JSON"):
            provider.enrich_batch(CONTACTS)
        with pytest.raises(ProviderError, match="not a list of result objects"):
            provider.enrich_batch(CONTACTS)
        with pytest.raises(ProviderError, match="1 results for 2 contacts"):
            provider.enrich_batch(CONTACTS)


def test_the_circuit_opens_on_a_dead_peer_and_fails_fast() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, cooldown=30, clock=lambda: now[0])
    script = PeerScript(failures=[(500, {}, "down")] * 10)
    with provider_peer(script) as url:
        provider = HttpProvider(url, client([], attempts=1, breaker=breaker))
        for _ in range(2):
            with pytest.raises(ProviderError):
                provider.enrich_batch(CONTACTS)
        calls = script.calls
        with pytest.raises(CircuitOpen):
            provider.enrich_batch(CONTACTS)
        assert script.calls == calls  # failed fast: the peer was not called
        now[0] = 31  # after the cool-down one call may try again
        with pytest.raises(ProviderError):
            provider.enrich_batch(CONTACTS)
        assert script.calls == calls + 1


def test_after_the_first_429_the_peers_cap_is_respected() -> None:
    script = PeerScript(cap=2, delay=0.05)
    shared = client([], concurrency=8)
    with provider_peer(script) as url:
        provider = HttpProvider(url, shared)
        threads = [
            threading.Thread(target=provider.enrich_batch, args=(CONTACTS,)) for _ in range(24)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert shared.limit.limit <= 2
    assert shared.late_429s == 0  # no call sent after the first 429 was refused
    assert script.rejected <= 6  # only the first wave, sent before the peer said 429
    assert script.calls - script.rejected == 24


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.fixture
def api_with_peer(tmp_path: Path) -> Iterator[tuple[LiveApi, PeerScript]]:
    script = PeerScript(keyed=True)
    with provider_peer(script) as url, live_api(tmp_path / "data", http_provider_url=url) as api:
        yield api, script


def test_an_enrichment_job_through_the_http_provider(
    api_with_peer: tuple[LiveApi, PeerScript],
) -> None:
    api, script = api_with_peer
    with api.client("alice") as c:
        response = c.post("/v1/process", json={"contacts": CONTACTS, "provider": "http"})
        assert response.status_code == 202, response.text
        job_id = response.json()["jobId"]
        worker = Worker(worker_ports(api.services))
        while worker.run_once():
            pass
        status = c.get(f"/v1/status/{job_id}").json()
        result = httpx.get(status["resultUrl"]).text
    assert status["status"] == "completed" and script.calls == 1
    assert "enriched_score" in result.splitlines()[0]


def test_the_http_provider_needs_its_url(tmp_path: Path) -> None:
    with live_api(tmp_path / "data") as api, api.client("alice") as c:
        response = c.post("/v1/process", json={"contacts": CONTACTS, "provider": "http"})
    error = assert_envelope(response, 422, "unknown_provider")
    assert "LEADFLOW_HTTP_PROVIDER_URL" in error["message"]


def test_identical_inputs_are_answered_from_the_cache(
    api_with_peer: tuple[LiveApi, PeerScript],
) -> None:
    api, script = api_with_peer
    worker = Worker(worker_ports(api.services))
    with api.client("alice") as c:
        for contacts in (CONTACTS, CONTACTS, [*CONTACTS, {"email": "new@x.io"}]):
            response = c.post("/v1/process", json={"contacts": contacts, "provider": "http"})
            assert response.status_code == 202
            while worker.run_once():
                pass
            status = c.get(f"/v1/status/{response.json()['jobId']}").json()
            assert status["status"] == "completed"
    assert script.calls == 2  # the second job was all cache; the third sent one contact
    rows = httpx.get(status["resultUrl"]).text.splitlines()
    assert len(rows) == 4 and all("," in row for row in rows)


def test_a_dead_provider_does_not_burn_the_queue_into_the_dlq(tmp_path: Path) -> None:
    script = PeerScript(failures=[(503, {}, "down")] * 1000)
    with provider_peer(script) as url, live_api(tmp_path / "data", http_provider_url=url) as api:
        contacts = [{"email": f"p{n}@x.io"} for n in range(500)]  # 5 batches
        with api.client("alice") as c:
            job_id = c.post("/v1/process", json={"contacts": contacts, "provider": "http"}).json()[
                "jobId"
            ]
        worker = Worker(worker_ports(api.services))
        provider = worker._provider("http")
        inner = provider.provider if hasattr(provider, "provider") else provider
        inner.client.sleep = lambda _: None  # no real backoff waits in the test
        for _ in range(20):
            worker.run_once()
        queue = api.services.queue
        status = api.services.job_document(job_id, "alice")
    assert (
        api.services.dead_letters.depth() == 0
    )  # the circuit opened: messages wait, they are not dead
    assert queue.depth() == 5
    assert status is not None and status["status"] == "processing"
    assert script.calls < 30  # fail-fast after the breaker opened, not 5 x 3 x 4 calls
