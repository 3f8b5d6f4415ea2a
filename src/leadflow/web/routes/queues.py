"""Dead letters (reasons, redrive, purge) and orders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from ..pages import CsrfChecked, WebServices, WebUser, read_form, render

router = APIRouter(include_in_schema=False)
SHOWN = 200


def _dead_letters(
    request: Request, user: str, services: WebServices, message: str | None = None
) -> Response:
    context = {
        "letters": services.dead_letters.list(user, SHOWN),
        "depth": services.dead_letters.depth(user),
        "message": message,
    }
    return render(request, "dead_letters.html", context, user)


# After a redrive or a delete the browser is sent back to the list (POST, redirect,
# GET): reloading the page then does not send the form again. The outcome rides along
# in the query string; only these words and numbers are read from it.
_OUTCOMES = {
    "redriven": "{n} sent back to the queue.",
    "deleted": "{n} deleted for good.",
}
_TICK_FIRST = {
    "redrive": "Tick the dead letters to redrive first.",
    "delete": "Tick the dead letters to delete first.",
}


def _outcome(request: Request) -> str | None:
    for key, text in _OUTCOMES.items():
        value = request.query_params.get(key) or ""
        if value.isdigit() and len(value) < 10:
            return text.format(n=int(value))
    return _TICK_FIRST.get(request.query_params.get("tick") or "")


@router.get("/dead-letters")
def dead_letters(request: Request, user: WebUser, services: WebServices) -> Response:
    """The user's dead-letter queue, newest first, each with its last error."""
    return _dead_letters(request, user, services, _outcome(request))


async def _selected(request: Request) -> list[str] | None:
    """The ticked ids, or None (every dead letter) when the form says "all"."""
    form = await read_form(request)
    if form.get("scope") == "all":
        return None
    return [v for v in form.getlist("id") if isinstance(v, str) and 0 < len(v) <= MAX_ID][:1000]


MAX_ID = 200  # characters: SQS message ids are at most 100


def _back(query: str) -> Response:
    return RedirectResponse(f"/dead-letters?{query}", status_code=303)


@router.post("/dead-letters/redrive", dependencies=[CsrfChecked])
async def redrive(request: Request, user: WebUser, services: WebServices) -> Response:
    ids = await _selected(request)
    if ids == []:
        return _back("tick=redrive")
    return _back(f"redriven={services.dead_letters.redrive(user, ids)}")


@router.post("/dead-letters/purge", dependencies=[CsrfChecked])
async def purge(request: Request, user: WebUser, services: WebServices) -> Response:
    ids = await _selected(request)
    if ids == []:
        return _back("tick=delete")
    return _back(f"deleted={services.dead_letters.purge(user, ids)}")


@router.get("/orders")
def orders(request: Request, user: WebUser, services: WebServices) -> Response:
    """The user's stored orders, newest first, a page at a time (`?before=ID`)."""
    before_text = request.query_params.get("before") or ""
    before = int(before_text) if before_text.isdigit() and len(before_text) < 19 else None
    items = services.orders.list(user, 100, before)
    next_before = items[-1]["id"] if len(items) == 100 else None
    context = {"orders": items, "next_before": next_before, "paged": before is not None}
    return render(request, "orders.html", context, user)
