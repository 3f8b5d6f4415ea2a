"""The FastAPI application: routers, error handlers and middleware, wired once."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline

from .. import __version__
from ..bootstrap import Services
from ..jobs.metrics import QUEUE_DEPTH
from ..providers.client import ProviderClient
from ..web import mount_web
from .cognito import cognito_verifier
from .errors import document_errors, install_error_handlers
from .limits import LoginThrottle, RateLimiter
from .middleware import (
    BodyLimitMiddleware,
    HeaderLimitMiddleware,
    MetricsMiddleware,
    UnexpectedErrorMiddleware,
)
from .routes import (
    auth,
    blobs,
    chat,
    dlq,
    export,
    health,
    leads,
    orders,
    process,
    records,
    schema_errors,
    uploads,
)

DESCRIPTION = """
leadflow takes contact, lead and order records from an HTTP call, a spreadsheet or a
dropped file and validates, normalizes, de-duplicates and stores them.

Get a token with `POST /v1/auth/token`, then send `Authorization: Bearer <token>`.
Errors always look like `{"error": {"code", "message", "details"}}`.

These pages work offline: their scripts and styles are served by leadflow itself.
"""

NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
DOCS_ASSETS = "/docs-assets"  # Swagger UI and ReDoc files shipped by fastapi-offline


def create_app(services: Services) -> FastAPI:
    app = FastAPIOffline(
        title="leadflow",
        version=__version__,
        description=DESCRIPTION,
        static_url=DOCS_ASSETS,
        # leadflow sets up no OpenTelemetry provider, so FastAPI's built-in telemetry never
        # records anything; saying so up front spares its per-request provider checks
        # (13 us of each request, found profiling POST /v1/records).
        telemetry=NO_TELEMETRY,
    )
    app.state.services = services
    QUEUE_DEPTH.queue = services.queue  # one app per process: /metrics reads its queue
    QUEUE_DEPTH.dead_letters = services.dead_letters
    app.state.rate_limiter = RateLimiter(services.settings.rate_limit)
    app.state.login_throttle = LoginThrottle(services.settings.login_attempts)
    app.state.cognito = cognito_verifier(services.settings)  # None unless configured
    app.state.chat_client = ProviderClient(
        "chat", concurrency=services.settings.provider_concurrency, attempts=2
    )
    install_error_handlers(app)
    for module in (
        health, auth, records, export, leads, schema_errors, uploads, process, chat, orders,
        dlq, blobs,
    ):  # fmt: skip
        app.include_router(module.router)
    app.router.routes.insert(0, records.serving_route)  # the hot path, matched first
    mount_web(app)  # the web app at / (its pages, static files and security headers)
    document_errors(app)
    # The last added is the outermost: metrics see every answer, the 413s and 500s
    # included; the error guard sits outside the limits so that it never mistakes their
    # signal for a bug.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=services.settings.max_body_bytes,
        larger={
            "/v1/uploads": services.settings.max_upload_bytes,
            "/import/files": services.settings.max_upload_bytes,  # the web app's uploads
        },
    )
    app.add_middleware(HeaderLimitMiddleware, max_bytes=services.settings.max_header_bytes)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(MetricsMiddleware, access_log=services.settings.access_log)
    return app
