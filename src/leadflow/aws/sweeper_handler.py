"""EventBridge schedule -> the sweeper's pass: forget jobs past their TTL, and enter the
batches SQS moved to the DLQ on its own (its redrive policy) in their jobs' ledgers, so
those jobs still complete (with `deadLettered` in their summary). Locally the same two
calls run in `leadflow worker`'s sweeper loop (jobs/runtime.py)."""

from __future__ import annotations

from typing import Any

from ..bootstrap import worker_ports
from ..jobs.sweeper import sweep_expired
from ..jobs.worker import Worker
from . import runtime


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The Lambda entry point: {"forgotten": jobs swept, "adopted": dead batches entered}."""
    services = runtime.services()
    forgotten = sweep_expired(
        services.jobs, services.blobs, services.ledger, services.lead_repo, services.clock()
    )
    adopted = Worker(worker_ports(services)).adopt_dead_letters()
    return {"forgotten": forgotten, "adopted": adopted}
