"""Issue 10 point 6: schemathesis over the OpenAPI document, every operation.

A real server on loopback, a real token (from POST /v1/auth/token), a fixed seed and a
bounded number of examples per operation, positive and negative data. Every answer must
not be a server error, must have a status the document lists, and must match the schema
the document gives for it (the error envelope included).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from api_server import PASSWORDS, LiveApi, live_api
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    data_dir = Path(tmp_path_factory.mktemp("schemathesis")) / "data"
    with live_api(data_dir, login_attempts=1_000_000) as api:
        yield api


@pytest.fixture(scope="module")
def token(live: LiveApi) -> str:
    with live.client() as client:
        answer = client.post(
            "/v1/auth/token", json={"username": "alice", "password": PASSWORDS["alice"]}
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def api_schema(live: LiveApi) -> Any:
    document = httpx.get(live.base_url + "/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(
    api_schema: Any, live: LiveApi, token: str, mode: GenerationMode
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,  # the fixed seed: the same cases every run
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # report the first failing case as is
        )
        def fuzz(case: Any) -> None:
            response = case.call(
                base_url=live.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:
            # nothing to break: an operation without parameters or body has no invalid form
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # every operation runs; the failures are listed together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
