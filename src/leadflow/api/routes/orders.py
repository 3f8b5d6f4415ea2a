"""POST /v1/orders (seed 003's {"orders": [...]}) and GET /v1/orders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from ...pipelines.orders import run_orders
from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError
from ..json_body import parse_json_body
from ..schemas import OrderPage, OrdersResult

router = APIRouter(prefix="/v1/orders", tags=["orders"])
MAX_ORDERS = 100_000


@router.post(
    "",
    response_model=OrdersResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["orders"],
                        "properties": {"orders": {"type": "array", "items": {"type": "object"}}},
                    }
                }
            },
        }
    },
)
async def post_orders(request: Request, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Store complete orders (same order item from the API twice: stored once); send the
    incomplete ones to the dead-letter queue with their reasons."""
    body = parse_json_body(await request.body())
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list) or not orders or len(orders) > MAX_ORDERS:
        raise ApiError(
            422, "invalid_body", f'send {{"orders": [...]}} with 1 to {MAX_ORDERS:,} records'
        )
    result = await run_in_threadpool(
        run_orders, services.orders, services.dead_letters, user, orders, "api"
    )
    return {
        "received": result.received,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "incomplete": result.incomplete,
    }


@router.get("", response_model=OrderPage)
def list_orders(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    """The caller's stored orders, newest first."""
    items = services.orders.list(user, limit, before)
    return {"items": items, "nextBefore": items[-1]["id"] if len(items) == limit else None}
