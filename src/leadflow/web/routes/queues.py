"""Dead letters (reasons, redrive, purge) and orders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..pages import CsrfChecked, WebServices, WebUser, read_form, render

router = APIRouter(include_in_schema=False)
SHOWN = 200


def _dead_letters(
    request: Request, user: str, services: WebServices, message: str | None = None
) -> Response:
    context = {
        "letters": services.queue.dead_letters(user, SHOWN),
        "depth": services.queue.dlq_depth(user),
        "message": message,
    }
    return render(request, "dead_letters.html", context, user)


@router.get("/dead-letters")
def dead_letters(request: Request, user: WebUser, services: WebServices) -> Response:
    """The user's dead-letter queue, newest first, each with its last error."""
    return _dead_letters(request, user, services)


async def _selected(request: Request) -> list[int] | None:
    """The ticked ids, or None (every dead letter) when the form says "all"."""
    form = await read_form(request)
    if form.get("scope") == "all":
        return None
    return [int(v) for v in form.getlist("id") if isinstance(v, str) and v.isdigit()][:1000]


@router.post("/dead-letters/redrive", dependencies=[CsrfChecked])
async def redrive(request: Request, user: WebUser, services: WebServices) -> Response:
    ids = await _selected(request)
    if ids == []:
        return _dead_letters(request, user, services, "Tick the dead letters to redrive first.")
    moved = services.queue.redrive(user, ids)
    return _dead_letters(request, user, services, f"{moved} sent back to the queue.")


@router.post("/dead-letters/purge", dependencies=[CsrfChecked])
async def purge(request: Request, user: WebUser, services: WebServices) -> Response:
    ids = await _selected(request)
    if ids == []:
        return _dead_letters(request, user, services, "Tick the dead letters to delete first.")
    gone = services.queue.purge_dead(user, ids)
    return _dead_letters(request, user, services, f"{gone} deleted for good.")


@router.get("/orders")
def orders(request: Request, user: WebUser, services: WebServices) -> Response:
    """The user's stored orders, newest first, a page at a time (`?before=ID`)."""
    before_text = request.query_params.get("before") or ""
    before = int(before_text) if before_text.isdigit() and len(before_text) < 19 else None
    items = services.orders.list(user, 100, before)
    next_before = items[-1]["id"] if len(items) == 100 else None
    context = {"orders": items, "next_before": next_before, "paged": before is not None}
    return render(request, "orders.html", context, user)
