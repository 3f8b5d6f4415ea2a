"""API Gateway (HTTP API) -> the FastAPI app, the web app included, through Mangum."""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from ..api.app import create_app
from . import runtime

_handler: Mangum | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point of the API function (an HTTP API payload v2.0 event)."""
    global _handler
    if _handler is None:  # once per container: the app and its services
        _handler = Mangum(create_app(runtime.services()), lifespan="off")
    return _handler(event, context)
