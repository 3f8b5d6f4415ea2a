"""The access log line: one JSON object a request, with its route, status, time and client."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from leadflow.api.middleware import MetricsMiddleware
from leadflow.logs import JsonFormatter


def _app(access_log: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.add_middleware(MetricsMiddleware, access_log=access_log)
    return app


def test_each_request_logs_one_json_line_with_its_route_status_and_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="leadflow.access"):
        with TestClient(_app(access_log=True)) as client:
            assert client.get("/v1/things/42").status_code == 200
            assert client.get("/nowhere").status_code == 404
    records = [r for r in caplog.records if r.name == "leadflow.access"]
    assert [r.getMessage() for r in records] == ["GET /v1/things/42 200", "GET /nowhere 404"]
    line = json.loads(JsonFormatter().format(records[0]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("ts"))
    assert isinstance(line.pop("ms"), float)
    assert line == {
        "level": "info",
        "logger": "leadflow.access",
        "msg": "GET /v1/things/42 200",
        "route": "/v1/things/{thing_id}",  # the template, not the raw path
        "status": 200,
        "client": "testclient",
    }
    assert json.loads(JsonFormatter().format(records[1]))["route"] == "unmatched"


def test_no_line_when_the_access_log_is_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="leadflow.access"):
        with TestClient(_app(access_log=False)) as client:
            assert client.get("/v1/things/1").status_code == 200
    assert not [r for r in caplog.records if r.name == "leadflow.access"]


def test_the_formatter_stamps_each_line_with_its_own_time() -> None:
    formatter = JsonFormatter()
    first = logging.makeLogRecord({"msg": "a", "created": 0.5, "msecs": 500.0})
    later = logging.makeLogRecord({"msg": "b", "created": 86_401.25, "msecs": 250.0})
    assert json.loads(formatter.format(first))["ts"] == "1970-01-01T00:00:00.500Z"
    assert json.loads(formatter.format(later))["ts"] == "1970-01-02T00:00:01.250Z"
    assert json.loads(formatter.format(first))["ts"] == "1970-01-01T00:00:00.500Z"
