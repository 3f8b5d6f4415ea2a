"""Liveness, readiness and Prometheus metrics (no token needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...jobs.supervisor import runtime_report
from ..deps import ServicesDep
from ..schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(services: ServicesDep) -> dict[str, str]:
    """ok when the API is up and its database answers."""
    services.users.has_users()
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "A component is down (the body says which and why).",
        }
    },
)
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    """Each running component's state and last error: 200 when every one is up, 503
    while one is down (restarting after a failure, or dead), or the database does not
    answer.

    Body: {"status": "ready"|"not_ready", "ready": bool, "database": {"state",
    "lastError"}, "processes": [{"pid", "role", "started", "updated", "components":
    [{"name", "state", "restarts", "lastError", "lastErrorAt", "since"}]}]}; the
    processes are this one and every `leadflow worker` on the same data directory.
    """
    supervisor = getattr(request.app.state, "supervisor", None)
    run_dir = services.settings.data_dir / "run"
    report: dict[str, Any] = await run_in_threadpool(runtime_report, run_dir, supervisor)
    database: dict[str, Any] = {"state": "running", "lastError": None}
    try:
        await run_in_threadpool(services.users.has_users)
    except Exception as exc:  # readiness reports it: that is its job
        database = {"state": "down", "lastError": f"{type(exc).__name__}: {exc}"}
    ready = bool(report["ready"]) and database["state"] == "running"
    body = {"status": "ready" if ready else "not_ready", "ready": ready, "database": database}
    return JSONResponse({**body, "processes": report["processes"]}, 200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
