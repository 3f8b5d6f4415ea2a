"""Security headers for the web app's pages and files (the JSON API keeps its own)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: scripts and styles come from /static only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Pages show a user's data: no copy is kept, so the back button after signing out asks
# the server again (and lands on the sign-in page) instead of showing the old page.
_NO_STORE = (b"cache-control", b"no-store")
_API_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/metrics")
_STATIC_PREFIX = "/static/"


def is_web_path(path: str) -> bool:
    """True for the web app's addresses (pages, fragments, downloads, static files)."""
    return not path.startswith(_API_PREFIXES)


class WebHeadersMiddleware:
    """Adds CSP and friends to every answer outside the JSON API and its docs, and
    `Cache-Control: no-store` to everything but the static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        extra = list(_HEADERS)
        if not scope["path"].startswith(_STATIC_PREFIX):
            extra.append(_NO_STORE)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"cache-control" or _NO_STORE not in extra
                ]
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
