"""Calls from a web page to the JSON API, in-process, as the signed-in user.

Actions whose rules live in an API route (undo, the error file, chat) are asked of the
API itself over an in-memory ASGI transport, with a short-lived token for the user: the
page then behaves exactly as `POST /v1/...` does, and no rule is written twice.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Request

from ..bootstrap import Services
from ..security import issue_token

_TOKEN_SECONDS = 120


async def call_api(
    request: Request, user: str, method: str, path: str, json: Any = None
) -> httpx.Response:
    """The API's answer to `method path` sent by `user` (body `json`, if any)."""
    services: Services = request.app.state.services
    token = issue_token(services.secret, user, _TOKEN_SECONDS)
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://leadflow.internal"
    ) as client:
        return await client.request(
            method,
            path,
            json=json,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120.0,
        )


def error_message(response: httpx.Response) -> str:
    """The message of an API error envelope, or the status line."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"the request failed ({response.status_code})"
