"""The chat panel: asks POST /v1/chat and shows the answer and its rows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..api_calls import call_api, error_message
from ..pages import CsrfChecked, WebUser, read_form, render

router = APIRouter(include_in_schema=False)


@router.get("/chat")
def chat_page(request: Request, user: WebUser) -> Response:
    return render(request, "chat.html", {"answer": None}, user)


def _columns(rows: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            seen.update(dict.fromkeys(str(k) for k in row))
    return list(seen)


@router.post("/chat", dependencies=[CsrfChecked])
async def ask(request: Request, user: WebUser) -> Response:
    """One question and its answer (an htmx fragment, or the whole page without htmx)."""
    form = await read_form(request)
    question = form.get("question")
    question = question.strip()[:2000] if isinstance(question, str) else ""
    context: dict[str, Any] = {"question": question, "answer": None, "error": None}
    if not question:
        context["error"] = "Type a question first."
    else:
        reply = await call_api(request, user, "POST", "/v1/chat", {"question": question})
        if reply.status_code == 200:
            body = reply.json()
            rows = body.get("rows") or []
            context.update(answer=body.get("answer"), rows=rows, columns=_columns(rows))
        else:
            context["error"] = error_message(reply)
    template = "_chat_answer.html" if request.headers.get("HX-Request") else "chat.html"
    return render(request, template, context, user)
