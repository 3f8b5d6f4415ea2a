"""POST /v1/chat: questions about the caller's own leads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from ...chat.bot import answer
from ...clock import utc_datetime
from ...providers.client import ProviderClient
from ..deps import CurrentUser, ServicesDep
from ..errors import ApiError, answers
from ..json_body import parse_json_body
from ..schemas import ChatAnswer

router = APIRouter(prefix="/v1", tags=["chat"])


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=2000)


@router.post(
    "/chat",
    response_model=ChatAnswer,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Question.model_json_schema()}},
        }
    },
    responses=answers(502),
)
async def chat(request: Request, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    """Answer a question about the caller's leads: {answer, rows?, tools}.

    With LEADFLOW_LLM_API_KEY set, the model chooses among fixed query tools (never
    SQL); without it, or when the model fails, common questions are recognized offline
    (the answer then says the model did not answer).
    """
    try:
        question = Question.model_validate(parse_json_body(await request.body())).question
    except ValidationError:
        raise ApiError(422, "invalid_request", 'send {"question": "..."}') from None
    now = utc_datetime()
    settings = services.settings
    client: ProviderClient | None = None
    if settings.llm_api_key:
        client = request.app.state.chat_client
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"}
    # a model that fails is answered by the offline parser, which says so
    reply = await run_in_threadpool(
        answer, client, url, settings.llm_model, headers, services.lead_reads, user, question, now
    )
    return {"answer": reply.answer, "rows": reply.rows, "tools": reply.tools}
